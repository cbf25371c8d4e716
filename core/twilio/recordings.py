"""Call recordings kept at Twilio: played to staff through the app, deleted when their call expires (R-52).

Twilio may require HTTP auth on media, and the browser must never see the auth token, so the app fetches a
recording on the staff's behalf with the account's credentials. Only URLs under the configured Twilio API for
the configured account are fetched or deleted, so a forged or odd RecordingUrl can never send the credentials
elsewhere.
"""
from __future__ import annotations

import base64
import http.client
import logging
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import Response, current_app

from core.twilio import API_VERSION, auth_token, rest_client

FETCH_TIMEOUT_SECONDS = 15
CHUNK_BYTES = 64 * 1024
log = logging.getLogger("core.twilio.recordings")


class RecordingUnavailable(Exception):
    """Why a recording cannot be played or deleted, in Japanese for the staff."""


class NotOurRecording(RecordingUnavailable):
    """The URL is not a recording of the configured account on the configured Twilio API."""


def recording_sid(url: str) -> str:
    """The RE… sid of `url` if it is a recording of the configured account on the configured Twilio API."""
    settings = current_app.config["SETTINGS"]
    api = settings["twilio.api_base_url"].rstrip("/")
    pattern = (re.escape(api) + rf"/{API_VERSION}/Accounts/(AC[0-9a-f]{{32}})/Recordings/(RE[0-9a-f]{{32}})"
               r"(?:\.(?:wav|mp3))?")
    match = re.fullmatch(pattern, url)
    if match is None:
        raise NotOurRecording(f"この録音の URL は Twilio（{urlsplit(api).netloc}）の録音ではないため再生できません。")
    if match.group(1) != settings["twilio.account_sid"]:
        raise NotOurRecording("この録音は設定中とは別の Twilio アカウントのものです。")
    return match.group(2)


def stream(url: str, byte_range: str | None = None) -> Response:
    """The recording from Twilio, passed through as it arrives (with Range, so the player can seek)."""
    recording_sid(url)
    settings = current_app.config["SETTINGS"]
    credentials = base64.b64encode(f"{settings['twilio.account_sid']}:{auth_token()}".encode()).decode()
    fetch = urllib.request.Request(url)
    # Twilio may answer with a redirect to signed storage: the credentials must not go along.
    fetch.add_unredirected_header("Authorization", f"Basic {credentials}")
    if byte_range:
        fetch.add_header("Range", byte_range)
    opener = urllib.request.build_opener(TrustedRedirects(urlsplit(url).hostname))
    try:
        upstream = opener.open(fetch, timeout=FETCH_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise RecordingUnavailable(f"Twilio から録音を取得できませんでした（HTTP {exc.code}）。"
                                   f"{credentials_hint(exc.code)}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise RecordingUnavailable("Twilio に接続できず、録音を取得できませんでした。") from exc

    def chunks():
        while chunk := upstream.read(CHUNK_BYTES):
            yield chunk

    headers = {"Cache-Control": "private, max-age=3600"}
    for name in ("Content-Length", "Content-Range", "Accept-Ranges"):
        if upstream.headers.get(name):
            headers[name] = upstream.headers[name]
    response = Response(chunks(), status=upstream.status, headers=headers,
                        mimetype=upstream.headers.get("Content-Type", "audio/wav"))
    response.call_on_close(upstream.close)  # also when the body is never read (HEAD) or the player goes away
    return response


def delete(url: str) -> None:
    """Delete the recording at Twilio (DELETE …/Recordings/{sid}.json); one already gone counts as deleted.

    Raises NotOurRecording when the URL is not the configured account's, RecordingUnavailable when Twilio did
    not delete it (refused, or could not be reached)."""
    from twilio.base.exceptions import TwilioException, TwilioRestException

    sid = recording_sid(url)
    client = rest_client()
    client.http_client.timeout = FETCH_TIMEOUT_SECONDS
    try:
        client.recordings(sid).delete()
    except TwilioRestException as exc:
        if exc.status == 404:
            return
        raise RecordingUnavailable(f"Twilio の録音を削除できませんでした（HTTP {exc.status}）。"
                                   f"{credentials_hint(exc.status)}") from exc
    except (TwilioException, OSError) as exc:  # the transport's connection errors are OSErrors
        raise RecordingUnavailable("Twilio に接続できず、録音を削除できませんでした。") from exc
    log.info("deleted recording %s at Twilio", sid)


def credentials_hint(status: int) -> str:
    return "アカウント SID と認証トークンの設定を確認してください。" if status in (401, 403) else ""


class TrustedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to https, or to the Twilio API's own host (the local test server is http)."""

    def __init__(self, api_host: str | None):
        self.api_host = api_host

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urlsplit(newurl)
        if target.scheme != "https" and target.hostname != self.api_host:
            fp.close()
            raise RecordingUnavailable(
                "Twilio が録音の取得先として https ではないアドレスを示したため、再生を中止しました。")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
