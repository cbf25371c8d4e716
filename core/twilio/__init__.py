"""Twilio helpers: signature check on webhooks, the REST client, request signing, the form Twilio posts for a
call. Recordings (fetching their media, deleting them) are in core.twilio.recordings, carrier lookups in
core.twilio.lookups.

In simulator mode the same signature check applies; the simulator signs its own requests with the
same auth token, so what staff try is exactly what Twilio would do.
"""
from __future__ import annotations

import functools
import hmac
from urllib.parse import urlsplit

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator

API_VERSION = "2010-04-01"


def auth_token() -> str:
    return current_app.config["TWILIO_AUTH_TOKEN"]


def public_base_url() -> str:
    return current_app.config["PUBLIC_BASE_URL"]


def public_url_of_request() -> str:
    """The URL Twilio called: PUBLIC_BASE_URL + path + query, never request.url (proxies rewrite it)."""
    url = public_base_url() + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def external_url(path: str) -> str:
    """An absolute URL on the public base, for TwiML and callbacks."""
    parts = urlsplit(path)
    if parts.scheme:
        return path
    return public_base_url() + (path if path.startswith("/") else "/" + path)


def signature_for(url: str, params: dict, token: str | None = None) -> str:
    """The X-Twilio-Signature Twilio would send for a form POST to `url`."""
    return RequestValidator(token or auth_token()).compute_signature(url, params)


def signature_matches(url: str, params: dict, signature: str) -> bool:
    """RequestValidator.validate always signs the URL twice (with and without an explicit port); Twilio
    signs the URL as configured, so one HMAC settles nearly every request and the port variants are the fallback."""
    if not signature.isascii():  # never one of Twilio's (base64); compare_digest would raise on it
        return False
    validator = RequestValidator(auth_token())
    if hmac.compare_digest(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def twilio_signature_required(view):
    """Webhook decorator: 403 unless X-Twilio-Signature matches this request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        signature = request.headers.get("X-Twilio-Signature", "")
        params = request.form.to_dict(flat=True) if request.method == "POST" else {}
        if not signature or not signature_matches(public_url_of_request(), params, signature):
            current_app.logger.warning("rejected unsigned or forged Twilio request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def inbound_call_params(call_sid: str, caller: str, to: str, account_sid: str, status: str = "in-progress",
                        **extra: str) -> dict[str, str]:
    """The form Twilio posts to a voice webhook in an inbound call (the simulator and tests post it too)."""
    return {"CallSid": call_sid, "AccountSid": account_sid, "From": caller, "To": to, "CallStatus": status,
            "Direction": "inbound", "ApiVersion": API_VERSION, **extra}


def rest_client():
    """The real twilio REST client; with TWILIO_API_BASE_URL set, every Twilio host the platform uses (api for
    messages and recordings, lookups for carriers) is reached at that base (a local Twilio-compatible server in
    tests), with Twilio's own paths."""
    return client_for(*rest_credentials())


def rest_credentials() -> tuple[str, str, str]:
    """(account SID, auth token, API base URL) of the running app, for clients made outside a request."""
    settings = current_app.config["SETTINGS"]
    return settings["twilio.account_sid"] or "AC" + "0" * 32, auth_token(), settings["twilio.api_base_url"]


def client_for(account_sid: str, token: str, base: str):
    """A twilio REST client (its own kept-alive connection, core.twilio.transport) aimed at `base` unless that is
    Twilio's own."""
    from twilio.rest import Client

    from core.twilio.transport import Urllib3HttpClient

    client = Client(account_sid, token, http_client=Urllib3HttpClient())
    if base and base != "https://api.twilio.com":
        client.api.base_url = base
        client.lookups.base_url = base
    return client
