"""The message step as a service: the form as stored, the ticket check before the confirm screen, and what the
message and confirm screens show (storage boxes, skipped counts, the per-message checks). No Flask here."""
from __future__ import annotations

from dataclasses import dataclass

from core import clock
from core.config import setting
from sms import tickets
from sms.bulk import history, sends
from sms.bulk.models import MAX_MESSAGES, SKIP_KINDS, BulkSend
from sms.models import StorageBox
from sms.rules import TextCheck
from sms.sending import placeholder_expansions


def form_from_send(send: BulkSend) -> sends.MessageForm:
    """The message form as the send holds it (a draft's empty one, or what was confirmed before)."""
    texts = send.messages or [""]
    boxes = send.boxes or [None]
    scheduled = send.scheduled_at if send.status == "scheduled" and not send.immediate else None
    return sends.MessageForm(texts=list(texts), boxes=list(boxes) + [None] * (len(texts) - len(boxes)),
                             immediate=scheduled is None, scheduled_at=scheduled, title=send.title,
                             scheduled_text=f"{scheduled:%Y-%m-%dT%H:%M}" if scheduled else "")


def needed_tickets(send: BulkSend, form: sends.MessageForm) -> int:
    if send.source == "resend":
        return send.slot_count
    return send.recipient_count * len(form.texts)


def ticket_problems(send: BulkSend, form: sends.MessageForm) -> list[str]:
    """R-44 checked on the message screen already, so nobody reaches the confirm screen for nothing."""
    try:
        sends.refuse_if_short(needed_tickets(send, form))
    except sends.BulkError as error:
        return error.errors
    return []


def skipped_counts(send: BulkSend) -> list[tuple[str, str, int]]:
    """(kind, label, count) of what the send left out, for the kinds that occurred."""
    counts = [("duplicate", send.duplicate_count), ("invalid", send.invalid_count), ("optout", send.optout_count),
              ("broken", send.broken_count)]
    return [(kind, SKIP_KINDS[kind], count) for kind, count in counts if count]


def box_details() -> list[dict]:
    return [{"number": b.number, "label": b.label, "body": b.body, "url": b.url}
            for b in StorageBox.select().order_by(StorageBox.number)]


def box_url(number: int | None) -> str | None:
    box = StorageBox.get_or_none(StorageBox.number == number) if number is not None else None
    return box.url if box and box.url else None


@dataclass(frozen=True)
class MessageScreen:
    """What the message screen shows besides the form."""

    boxes: list[dict]
    max_messages: int
    max_length: int
    url_placeholder: str
    optout_placeholder: str
    url_length: int | None
    optout_length: int | None
    fixed_count: bool
    tickets_enabled: bool
    balance: int
    now: object


def message_screen(send: BulkSend) -> MessageScreen:
    expansions = placeholder_expansions("x")
    url_placeholder, optout_placeholder = setting("sms.url_placeholder"), setting("sms.optout_placeholder")
    return MessageScreen(
        boxes=box_details(), max_messages=MAX_MESSAGES, max_length=setting("sms.max_length"),
        url_placeholder=url_placeholder, optout_placeholder=optout_placeholder,
        url_length=expansions[url_placeholder], optout_length=expansions[optout_placeholder],
        fixed_count=send.source == "resend", tickets_enabled=setting("sms.tickets_enabled"),
        balance=tickets.balance(), now=clock.now())


@dataclass(frozen=True)
class ConfirmScreen:
    """What the confirm screen shows: each message checked, the first recipients, tickets, what was left out."""

    checks: list[TextCheck]
    numbers: list[str]
    needed: int
    tickets_enabled: bool
    balance: int
    skipped_counts: list[tuple[str, str, int]]


def confirm_screen(send: BulkSend, form: sends.MessageForm) -> ConfirmScreen:
    checks = [sends.check_template(text, box_url(box)) for text, box in zip(form.texts, form.boxes)]
    return ConfirmScreen(checks=checks, numbers=history.preview_numbers(send.id), needed=needed_tickets(send, form),
                         tickets_enabled=setting("sms.tickets_enabled"), balance=tickets.balance(),
                         skipped_counts=skipped_counts(send))
