"""個別送信 (seed 002): one SMS to one number, typed freely or prefilled from a message (a failed row of the log,
a bulk send's results, a message's page). It goes through sms.sending like every other send (numbers, characters,
the URL line, opt-out, tickets), is sent at once through the outbox's claim, and is audited.
"""
from __future__ import annotations

import re
import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, phone
from core.inputs import InputError, int_or, parse_int
from core.routes import Routes
from core.security import role_required
from sms import visibility
from sms.models import MAX_BOX_NUMBER, Message, StorageBox
from sms.rules import URL_PATTERN
from sms.sending import check_template, preview, queue_box, queue_text

routes = Routes()
INDIVIDUAL_SEND_ROLE = visibility.READER_ROLE  # who reads the log (and its failed numbers) may send one again
TOKEN = re.compile(r"^[0-9a-f]{32}$")
MESSAGES = {
    "box": "蓄積BOX {box} は登録されていません。",
    "url_format": "URL は http:// または https:// で始まる形式で入力してください。",
    "sent": "{number} 宛に個別送信しました（状態: {state}）。",
    "refused": "送信できません: {reason}",
    "repeated": "この内容は既に送信しています（二重送信を防ぎました）。",
}


@routes.route("/send", methods=["GET", "POST"])
@role_required(INDIVIDUAL_SEND_ROLE)
def individual_send():
    """The form (prefilled from ?message=<id> when given) and the send."""
    if request.method == "GET":
        source = source_message(request.args.get("message"))
        return render_form(prefill(source), [], source)
    form = request.form.to_dict()
    source = source_message(form.get("from_message"))
    box, errors = chosen_box(form.get("box", ""))
    url = form.get("url", "").strip() if box is None else box.url
    if box is None and url and not URL_PATTERN.match(url):
        errors.append(MESSAGES["url_format"])
    if errors:
        return render_form(form, errors, source), 400
    key = f"ui:send:{form['token']}" if TOKEN.match(form.get("token", "")) else None
    if key and Message.select().where(Message.idempotency_key == key).exists():
        flash(MESSAGES["repeated"], "info")
        return redirect(url_for("sms.message_detail", message_id=Message.get(Message.idempotency_key == key).id))
    options = dict(source="ui", created_by=current_user.username, idempotency_key=key)
    if box is not None:
        result = queue_box(box.number, form.get("to", ""), **options)
    else:
        result = queue_text(form.get("body", ""), form.get("to", ""), url=url, **options)
    if not result.ok:
        return render_form(form, [MESSAGES["refused"].format(reason=result.reason)], source), 400
    return sent(result.message_id, box, source)


def sent(message_id: int, box: StorageBox | None, source: Message | None):
    from sms.outbox import dispatch_now

    dispatch_now(message_id)
    message = Message.get_by_id(message_id)
    audit.record("sms.individual_sent", message.to_number, {
        "message_id": message.id, "box": box.number if box else None,
        "from_message_id": source.id if source else None})
    flash(MESSAGES["sent"].format(number=phone.display(message.to_number), state=message.state_label), "success")
    return redirect(url_for("sms.message_detail", message_id=message.id))


# --- helpers ----------------------------------------------------------------------------------------------
def source_message(raw) -> Message | None:
    """The message a send starts from, if the user may read it (otherwise the form starts empty)."""
    message_id = int_or(raw, 0, minimum=0)
    message = Message.get_or_none(Message.id == message_id) if message_id else None
    return message if message is not None and visibility.can_read(message, current_user) else None


def prefill(source: Message | None) -> dict:
    """The number and the box (or, for a free-text message, the text as it was sent) of `source`."""
    if source is None:
        return {}
    box = StorageBox.get_or_none(StorageBox.number == source.box_number) if source.box_number else None
    if box is not None:
        return {"to": phone.display(source.to_number), "box": str(box.number), "body": box.body, "url": box.url}
    return {"to": phone.display(source.to_number), "box": "", "body": source.body, "url": ""}


def chosen_box(raw: str) -> tuple[StorageBox | None, list[str]]:
    if not raw.strip():
        return None, []
    try:
        number = parse_int(raw, "蓄積BOX番号", minimum=1, maximum=MAX_BOX_NUMBER)
    except InputError as error:
        return None, [error.message]
    box = StorageBox.get_or_none(StorageBox.number == number)
    return (box, []) if box is not None else (None, [MESSAGES["box"].format(box=number)])


def render_form(form: dict, errors: list[str], source: Message | None):
    box, _ = chosen_box(form.get("box", ""))
    body, url = (box.body, box.url) if box is not None else (form.get("body", ""), form.get("url", "").strip())
    boxes = list(StorageBox.select().order_by(StorageBox.number))
    return render_template("sms/send.html", form=form, errors=errors, source=source, boxes=boxes,
                           body=body, url=url, check=check_template(body, url), preview=preview(body, url),
                           token=form.get("token") if TOKEN.match(form.get("token", "")) else uuid.uuid4().hex)
