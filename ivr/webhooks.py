"""Twilio voice webhooks (R-06): the number's Voice URL, its status callback, and the app's own action URLs.

Every request must carry a valid X-Twilio-Signature (403 otherwise). The views only read the form,
call ivr.calls and answer TwiML as text/xml.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from core.twilio import twilio_signature_required
from ivr import calls

bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")


def xml(text: str) -> Response:
    return Response(text, mimetype="text/xml")


@bp.route("", methods=["POST"])
@twilio_signature_required
def voice():
    return xml(calls.answer(request.form.to_dict()).xml)


@bp.route("/step/<int:step>", methods=["POST"])
@twilio_signature_required
def step(step: int):
    return xml(calls.proceed(step, request.form.to_dict()).xml)


@bp.route("/status", methods=["POST"])
@twilio_signature_required
def status():
    calls.ended(request.form.to_dict())
    return Response(status=204)
