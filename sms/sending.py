"""Queueing an SMS: every entry point (IVR, API, UI, bulk) comes through here, and every SMS becomes a
row before anything is sent. The dispatcher (sms.outbox) sends the row later.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from peewee import IntegrityError

from core import clock
from core.config import setting
from core.db import database
from core.phone import check_mobile
from sms import links, tickets
from sms.models import STATUS_FAILED, STATUS_SENDING, Message, StorageBox
from sms.rules import TextCheck, check_text


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: int | None = None
    code: str | None = None     # on refusal: not_mobile, withheld, opted_out, no_ticket, no_box, invalid_text
    reason: str | None = None   # Japanese, for people


REFUSAL_REASONS = {
    "opted_out": "配信停止の申し出があった番号のため、送信できません。",
    "no_ticket": "チケットが不足しているため、送信できません。",
    "no_box": "蓄積BOX {box} は登録されていません。",
}
# What the delivery log shows for a refusal that is recorded as a failed message.
REFUSAL_LOG_MESSAGES = {"opted_out": "配信停止済み", "no_ticket": "チケット不足"}


def placeholder_expansions(url: str | None) -> dict[str, int | None]:
    """Lengths the placeholders become when sent; {url} is unusable without a URL."""
    return {
        setting("sms.url_placeholder"): links.short_url_length() if url else None,
        setting("sms.optout_placeholder"): links.optout_url_length(),
    }


def url_line(text: str, url: str | None, placeholder: str | None = None) -> str:
    """What R-25 appends so the URL always arrives: with a URL and no {url} in the text, {url} on a line of its
    own ("" when the text places {url} itself, or there is no URL). `placeholder`: the setting, read by the caller
    once for a batch."""
    placeholder = placeholder or setting("sms.url_placeholder")
    if not url or placeholder in text:
        return ""
    return placeholder if text.endswith("\n") else "\n" + placeholder


def check_template(text: str | None, url: str | None = None, url_field: str = "URL") -> TextCheck:
    """The rules of R-22/R-23 for a text with its placeholders, as the editor and every sender see them.

    Length and parts count the URL line R-25 appends (`url_line`); `.text` is the text without it, as stored.
    `url_field` names the field a {url} without a URL needs, in the refusal."""
    raw = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    suffix = url_line(raw, url) if raw.strip() else ""
    checked = check_text(raw + suffix, max_length=setting("sms.max_length"), expansions=placeholder_expansions(url),
                         field_names={setting("sms.url_placeholder"): url_field})
    if suffix:
        checked = replace(checked, text=checked.text[:len(checked.text) - len(suffix)])
    return checked


def text_as_sent(text: str, url: str | None, short: str, optout: str | None) -> str:
    """The text with the URL line appended (R-25) and the placeholders replaced by these URLs."""
    body = text + url_line(text, url)
    if url:
        body = body.replace(setting("sms.url_placeholder"), short)
    if optout is not None:
        body = body.replace(setting("sms.optout_placeholder"), optout)
    return body


def preview(text: str | None, url: str | None) -> str:
    """What a recipient reads, with sample links (the editor's preview)."""
    checked = check_template(text, url)
    return text_as_sent(checked.text, url, links.short_url(links.SAMPLE_CODE), links.optout_url(links.SAMPLE_TOKEN))


def queue_box(box_number, to, *, source: str, **kw) -> SendResult:
    """Queue storage box `box_number` to `to`."""
    box = StorageBox.get_or_none(StorageBox.number == box_number) if _is_int(box_number) else None
    if box is None:
        return SendResult(False, None, "no_box", REFUSAL_REASONS["no_box"].format(box=box_number))
    return queue_text(box.body, to, source=source, url=box.url, box_number=box.number, **kw)


def queue_text(text: str, to, *, source: str, url: str = "", box_number: int | None = None,
               call_sid: str | None = None, idempotency_key: str | None = None, created_by: str = "",
               bulk_send_id: int | None = None, due_at: dt.datetime | None = None,
               use_ticket: bool = True, url_field: str = "URL") -> SendResult:
    """Validate and queue one SMS. Idempotent per `idempotency_key`: a repeat returns the first result."""
    if idempotency_key:
        existing = Message.get_or_none(Message.idempotency_key == idempotency_key)
        if existing is not None:
            return result_for(existing)
    number = check_mobile(to)
    if not number.ok:
        return SendResult(False, None, "withheld" if number.withheld else "not_mobile", number.reason)
    checked = check_template(text, url, url_field)
    if not checked.ok:
        return SendResult(False, None, "invalid_text", " ".join(checked.errors))
    fields = dict(to_number=number.e164, box_number=box_number, source=source, call_sid=call_sid,
                  idempotency_key=idempotency_key or None, created_by=created_by, bulk_send_id=bulk_send_id)
    try:
        with database.atomic():
            message = _create(checked.text, url, fields, due_at)
            refusal = _refusal(message, use_ticket)
            if refusal:
                _record_refusal(message, refusal)
    except IntegrityError:
        if idempotency_key:  # the same webhook raced us: answer what the first one stored
            existing = Message.get_or_none(Message.idempotency_key == idempotency_key)
            if existing is not None:
                return result_for(existing)
        raise
    return result_for(message)


def _create(text: str, url: str, fields: dict, due_at: dt.datetime | None) -> Message:
    now = clock.now()
    token = links.new_optout_token() if setting("sms.optout_placeholder") in text else None
    message = Message.create(body=text, parts=0, status=STATUS_SENDING, state="queued", created_at=now,
                             updated_at=now, due_at=due_at or now, optout_token=token, **fields)
    short = links.short_url(links.create_short_link(message, url).code) if url else ""
    body = text_as_sent(text, url, short, links.optout_url(token) if token else None)
    checked = check_text(body, max_length=10**6)
    message.body, message.parts = body, checked.parts
    Message.update(body=body, parts=checked.parts).where(Message.id == message.id).execute()
    return message


def _refusal(message: Message, use_ticket: bool) -> str | None:
    if links.is_opted_out(message.to_number):
        return "opted_out"
    if use_ticket and setting("sms.tickets_enabled"):
        if not tickets.consume(1, reason="SMS 送信", message_id=message.id, bulk_send_id=message.bulk_send_id,
                               actor=message.created_by):
            return "no_ticket"
    return None


def _record_refusal(message: Message, code: str) -> None:
    now = clock.now()
    changes = dict(status=STATUS_FAILED, state="failed", error_message=REFUSAL_LOG_MESSAGES[code],
                   due_at=None, final_at=now, updated_at=now)
    Message.update(**changes).where(Message.id == message.id).execute()
    for key, value in changes.items():
        setattr(message, key, value)


def result_for(message: Message) -> SendResult:
    """The SendResult a message stands for (also what a repeated, idempotent request gets)."""
    if message.provider_sid is None and message.state == "failed":
        for code, text in REFUSAL_LOG_MESSAGES.items():
            if message.error_message == text:
                return SendResult(False, message.id, code, REFUSAL_REASONS[code])
    return SendResult(True, message.id, None, None)


def _is_int(value) -> bool:
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return not isinstance(value, bool)
