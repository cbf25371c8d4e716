"""留守番電話: the voicemails callers left, to hear and mark as dealt with.

A Twilio recording is fetched on the staff's behalf with the account's credentials (Twilio may require HTTP
auth on media, and the browser must never see the auth token). Only URLs under the configured Twilio API
for the configured account are fetched, so a forged or odd RecordingUrl can never send the credentials
elsewhere. The simulator's recordings are the app's own files.
"""
from __future__ import annotations

import base64
import http.client
import re
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import JOIN

from core import audit, clock, phone
from core.config import setting
from core.db import database
from core.pagination import paginate
from core.security import role_required
from core.twilio import auth_token
from ivr import simulator
from ivr.models import Call, Flow, Voicemail
from ivr.views import bp

FILTERS = {"open": "未対応", "handled": "対応済み", "all": "すべて"}
FETCH_TIMEOUT_SECONDS = 15
CHUNK_BYTES = 64 * 1024
SIMULATOR_RECORDING = re.compile(r"/ivr/simulator/recordings/(CA[0-9a-f]{32}\.(?:webm|ogg|wav))")


class RecordingUnavailable(Exception):
    """Why a recording cannot be played, in Japanese for the staff."""


@bp.route("/voicemails")
@role_required("staff")
def voicemails():
    shown = request.args.get("show", "open")
    shown = shown if shown in FILTERS else "open"
    q = request.args.get("q", "").strip()
    query = (Voicemail.select(Voicemail, Call, Flow).join(Call).join(Flow, JOIN.LEFT_OUTER)
             .order_by(Voicemail.at.desc(), Voicemail.id.desc()))
    if shown == "open":
        query = query.where(Voicemail.handled_at.is_null())
    elif shown == "handled":
        query = query.where(Voicemail.handled_at.is_null(False))
    if q:
        query = query.where(search_clause(q))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    open_count = Voicemail.select().where(Voicemail.handled_at.is_null()).count()
    return render_template("ivr/voicemails.html", page=page, q=q, shown=shown, filters=FILTERS,
                           open_count=open_count)


def search_clause(q: str):
    """A typed phone number (whole or in part, full-width too) searches the numbers; other text the names."""
    if phone.looks_like_number(q):
        number = phone.search_term(q)  # 090-3333 finds +8190333…
        return Call.from_number.contains(number) | Call.to_number.contains(number)
    return Flow.name.contains(q) | Voicemail.node_name.contains(q)


@bp.route("/voicemails/<int:voicemail_id>/handled", methods=["POST"])
@role_required("staff")
def voicemail_handled(voicemail_id: int):
    """Mark as dealt with (対応済み), or back to open with undo=1; the list keeps its filter and page."""
    voicemail = Voicemail.get_or_none(Voicemail.id == voicemail_id) or abort(404)
    undo = request.form.get("undo") == "1"
    label = f"留守番電話（{voicemail.at:%Y-%m-%d %H:%M}）"
    with database.atomic():
        # Only a change of state counts: a second click, or a colleague's, keeps who dealt with it first.
        changed = (Voicemail.update(handled_at=None, handled_by="") if undo
                   else Voicemail.update(handled_at=clock.now(), handled_by=current_user.username)).where(
            (Voicemail.id == voicemail.id) & Voicemail.handled_at.is_null(not undo)).execute()
        if changed:
            audit.record("ivr.voicemail.reopened" if undo else "ivr.voicemail.handled",
                         voicemail.call.from_number or "非通知", {"voicemail_id": voicemail.id})
    if changed:
        flash(f"{label}を{'未対応に戻しました' if undo else '対応済みにしました'}。", "success")
    elif undo:
        flash(f"{label}は既に未対応です。", "info")
    else:
        flash(f"{label}は既に対応済みです（{Voicemail.get_by_id(voicemail.id).handled_by} さん）。", "info")
    return redirect(url_for("ivr.voicemails", **back_args(request.form)))


def back_args(form) -> dict:
    return {key: form[key] for key in ("show", "q", "page") if form.get(key)}


@bp.route("/voicemails/<int:voicemail_id>/audio")
@role_required("staff")
def voicemail_audio(voicemail_id: int):
    voicemail = Voicemail.get_or_none(Voicemail.id == voicemail_id) or abort(404)
    own = simulator_file_name(voicemail.url)
    if own:
        return simulator.simulator_recording_file(own)
    try:
        return stream_twilio_recording(voicemail.url)
    except RecordingUnavailable as exc:
        return Response(str(exc), status=502, mimetype="text/plain")


def simulator_file_name(url: str) -> str | None:
    """The file name when `url` is one of the call simulator's recordings. By path alone: PUBLIC_BASE_URL may
    have changed since (a new tunnel, a new domain), and the name pattern admits nothing but such a file."""
    match = SIMULATOR_RECORDING.fullmatch(urlsplit(url).path)
    return match.group(1) if match else None


def twilio_recording_url(url: str) -> str:
    """`url` if it is a recording of the configured account on the configured Twilio API, else why not."""
    settings = current_app.config["SETTINGS"]
    api = settings["twilio.api_base_url"].rstrip("/")
    account = settings["twilio.account_sid"]
    pattern = re.escape(api) + r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/RE[0-9a-f]{32}(?:\.(?:wav|mp3))?"
    match = re.fullmatch(pattern, url)
    if match is None:
        raise RecordingUnavailable(
            f"この録音の URL は Twilio（{urlsplit(api).netloc}）の録音ではないため再生できません。")
    if match.group(1) != account:
        raise RecordingUnavailable("この録音は設定中とは別の Twilio アカウントのものです。")
    return url


def stream_twilio_recording(url: str) -> Response:
    """The recording from Twilio, passed through as it arrives (with Range, so the player can seek)."""
    source = twilio_recording_url(url)
    settings = current_app.config["SETTINGS"]
    credentials = base64.b64encode(f"{settings['twilio.account_sid']}:{auth_token()}".encode()).decode()
    fetch = urllib.request.Request(source)
    # Twilio may answer with a redirect to signed storage: the credentials must not go along.
    fetch.add_unredirected_header("Authorization", f"Basic {credentials}")
    if request.headers.get("Range"):
        fetch.add_header("Range", request.headers["Range"])
    opener = urllib.request.build_opener(TrustedRedirects(urlsplit(source).hostname))
    try:
        upstream = opener.open(fetch, timeout=FETCH_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as exc:
        exc.close()
        hint = "アカウント SID と認証トークンの設定を確認してください。" if exc.code in (401, 403) else ""
        raise RecordingUnavailable(f"Twilio から録音を取得できませんでした（HTTP {exc.code}）。{hint}") from exc
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


class TrustedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to https, or to the Twilio API's own host (the local test server is plain http)."""

    def __init__(self, api_host: str | None):
        self.api_host = api_host

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        target = urlsplit(newurl)
        if target.scheme != "https" and target.hostname != self.api_host:
            fp.close()
            raise RecordingUnavailable(
                "Twilio が録音の取得先として https ではないアドレスを示したため、再生を中止しました。")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
