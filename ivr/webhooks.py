"""Twilio voice webhooks (R-06): the number's Voice URL, its status callback, and the app's own action URLs.

Every request must carry a valid X-Twilio-Signature (403 otherwise). The views only read the form,
call ivr.calls and answer TwiML as text/xml.

Twilio posts to these on every key press, and Flask's per-request machinery (request context, session,
CSRF, login, hooks, form parser) costs more than the call's own work (R-07: answer fast). So a WSGI
shortcut in front of the app answers the well-formed, correctly signed posts itself, with the same
handlers; anything else (a bad or missing signature, a NUL character, an unusual body) goes on to the
Flask views unchanged, which refuse it as they always did.
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, request

from core.db import database
from core.extensions import SERVER_ERROR_MESSAGE
from core.twilio import public_base_url, signature_matches, twilio_signature_required
from ivr import calls

VOICE_PATH = "/twilio/voice"  # the number's Voice URL (SPEC §11); the call's other webhooks are under it
bp = Blueprint("twilio_voice", __name__, url_prefix=VOICE_PATH)
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 1024 * 1024  # when the app sets no request limit


# --- what each webhook does: (status, TwiML), shared by the views and the shortcut -----------------------------
def on_voice(params: dict) -> tuple[int, str]:
    return 200, calls.answer(params).xml


def on_step(step: int, params: dict) -> tuple[int, str]:
    return 200, calls.proceed(step, params).xml


def on_status(params: dict) -> tuple[int, str]:
    calls.ended(params)
    return 204, ""


def on_recording(params: dict) -> tuple[int, str]:
    calls.recording_done(params)
    return 200, EMPTY_RESPONSE


EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def respond(status: int, text: str) -> Response:
    return Response(text, status=status, mimetype="text/xml" if text else None)


@bp.route("", methods=["POST"])
@twilio_signature_required
def voice():
    return respond(*on_voice(request.form.to_dict()))


@bp.route("/step/<int:step>", methods=["POST"])
@twilio_signature_required
def step(step: int):
    return respond(*on_step(step, request.form.to_dict()))


@bp.route("/status", methods=["POST"])
@twilio_signature_required
def status():
    return respond(*on_status(request.form.to_dict()))


@bp.route("/recording", methods=["POST"])
@twilio_signature_required
def recording():
    """A recorded transfer's recording status callback (<Dial recordingStatusCallback>)."""
    return respond(*on_recording(request.form.to_dict()))


# --- the shortcut -------------------------------------------------------------------------------------------------
STEP_PATH = re.compile(re.escape(bp.url_prefix) + r"/step/([0-9]{1,9})\Z")
HANDLERS: dict[str, Callable[[dict], tuple[int, str]]] = {bp.url_prefix: on_voice, bp.url_prefix + "/status": on_status}
# status → (status line, content type)
STATUS_LINES = {200: ("200 OK", "text/xml; charset=utf-8"), 204: ("204 NO CONTENT", None),
                500: ("500 INTERNAL SERVER ERROR", "text/plain; charset=utf-8")}  # as web.errors answers webhooks


def handler_for(path: str) -> Callable[[dict], tuple[int, str]] | None:
    handler = HANDLERS.get(path)
    if handler is None and (match := STEP_PATH.match(path)):
        number = int(match.group(1))
        return lambda params: on_step(number, params)
    return handler


def plain_form(body: bytes) -> dict | None:
    """The posted fields as Flask's form.to_dict() gives them (first value of a repeated name), or None when
    the body is not plain UTF-8 or holds a NUL (the views refuse those with their own messages)."""
    try:  # strict: werkzeug keeps an invalid escape such as %FF as it is, parse_qsl would replace it
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except ValueError:
        return None
    params: dict[str, str] = {}
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            return None
        params.setdefault(name, value)
    return params


class SignedVoiceShortcut:
    """WSGI middleware: answers signed voice webhooks without Flask's request machinery."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        handler = self.eligible(environ)
        if handler is None:
            return self.wsgi_app(environ, start_response)
        length = int(environ["CONTENT_LENGTH"])
        body = environ["wsgi.input"].read(length)
        params = plain_form(body) if len(body) == length else None
        with self.app.app_context():
            url = public_base_url() + environ["PATH_INFO"]
            if params is None or not signature_matches(url, params, environ.get("HTTP_X_TWILIO_SIGNATURE", "")):
                environ["wsgi.input"] = io.BytesIO(body)  # the view reads it again and answers 400 / 403
                return self.wsgi_app(environ, start_response)
            status, text = self.run(handler, params)
        data = text.encode()
        line, content_type = STATUS_LINES[status]
        headers = [("Content-Length", str(len(data)))]
        if content_type:
            headers.insert(0, ("Content-Type", content_type))
        start_response(line, headers)
        return [data]

    def eligible(self, environ) -> Callable[[dict], tuple[int, str]] | None:
        """The handler for a signed-looking form POST without a query string (the views handle the rest)."""
        length = environ.get("CONTENT_LENGTH", "")
        if (environ.get("REQUEST_METHOD") != "POST" or environ.get("QUERY_STRING")
                or environ.get("CONTENT_TYPE") != FORM_TYPE or not environ.get("HTTP_X_TWILIO_SIGNATURE")
                or not (length.isascii() and length.isdigit())
                or int(length) > (self.app.config["MAX_CONTENT_LENGTH"] or MAX_FORM_BYTES)):
            return None
        return handler_for(environ.get("PATH_INFO", ""))

    def run(self, handler, params: dict) -> tuple[int, str]:
        opened = database.connect(reuse_if_open=True)
        try:
            return handler(params)
        except Exception:
            self.app.logger.exception("unhandled error on Twilio voice webhook")
            return 500, SERVER_ERROR_MESSAGE
        finally:
            if opened:
                database.close()


def install_shortcut(app: Flask) -> None:
    app.wsgi_app = SignedVoiceShortcut(app, app.wsgi_app)
