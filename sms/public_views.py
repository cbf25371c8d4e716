"""Pages without login: short links /s/<code> (R-25), personal opt-out /optout/<token> (R-24), and Twilio's
SMS status callback /twilio/sms/status (signature instead of login)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request

from core import audit, phone
from core.config import setting
from core.inputs import InputError, parse_int
from core.twilio import twilio_signature_required
from sms import links
from sms.receipts import record_receipt

bp = Blueprint("sms_public", __name__, template_folder="templates")
webhooks = Blueprint("sms_webhooks", __name__)
MAX_ERROR_CODE = 999_999_999


@bp.route("/s/<code>")
def short_link(code: str):
    # only a GET is a click; link scanners and previews send HEAD first (Flask answers HEAD with this view).
    target = links.follow(code, click=request.method == "GET") if len(code) <= 16 else None
    if target is None:
        return render_template("sms/public_message.html", title="リンクが見つかりません",
                               text="このリンクは無効か、期限が切れています。"), 404
    return redirect(target, code=302)


@bp.route("/optout/<token>", methods=["GET", "POST"])
def optout(token: str):
    message = links.message_for_optout_token(token)
    if message is None:
        return render_template("sms/public_message.html", title="配信停止",
                               text="このリンクは無効です。SMS に記載された URL をもう一度ご確認ください。"), 404
    number = message.to_number
    already = links.is_opted_out(number)
    if request.method == "POST" and not already:
        links.opt_out(number, via="link", message_id=message.id)
        audit.record("optout.added", number, {"via": "link", "message_id": message.id}, actor="recipient")
        return render_template("sms/optout.html", masked=mask(number), done=True, company=setting("sms.company_name"))
    return render_template("sms/optout.html", masked=mask(number), done=already, token=token,
                           company=setting("sms.company_name"))


def mask(e164: str) -> str:
    """090-****-5678: enough for the recipient to recognise the number, no more."""
    shown = phone.display(e164)
    parts = shown.split("-")
    if len(parts) == 3:
        return f"{parts[0]}-****-{parts[2]}"
    return "*" * max(0, len(shown) - 4) + shown[-4:]


@webhooks.route("/twilio/sms/status", methods=["POST"])
@twilio_signature_required
def twilio_status():
    """Twilio's status callback: stored as it comes; duplicates and late ones never move a final status."""
    sid = request.form.get("MessageSid", "").strip()
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").strip()
    if not sid or not status:
        abort(400)
    try:
        code = parse_int(request.form.get("ErrorCode"), "ErrorCode", maximum=MAX_ERROR_CODE)
    except InputError:
        code = None  # not one of Twilio's codes (they have 5 digits): the receipt is kept without one
    record_receipt(sid[:64], status, code)
    return "", 204
