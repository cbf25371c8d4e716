"""The message step as a service: the form as stored, the ticket check before the confirm screen, and what the
message and confirm screens show (storage boxes, skipped counts, the per-message checks). No Flask here."""
from __future__ import annotations

from dataclasses import dataclass, field

from core import audit, clock, phone
from core.config import setting
from sms import links, tickets
from sms.bulk import guards, history, merge, sends
from sms.bulk.models import MAX_MESSAGES, SKIP_KINDS, SLOT_NONE, BulkRecipient, BulkSend
from sms.models import StorageBox
from sms.rules import TextCheck
from sms.sending import placeholder_expansions, queue_text, url_line
from sms.statuses import parse_window


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


box_url = sends.box_url


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
    merge_fields: list[str]


def message_screen(send: BulkSend) -> MessageScreen:
    expansions = placeholder_expansions("x")
    url_placeholder, optout_placeholder = setting("sms.url_placeholder"), setting("sms.optout_placeholder")
    return MessageScreen(
        boxes=box_details(), max_messages=MAX_MESSAGES, max_length=setting("sms.max_length"),
        url_placeholder=url_placeholder, optout_placeholder=optout_placeholder,
        url_length=expansions[url_placeholder], optout_length=expansions[optout_placeholder],
        fixed_count=send.source == "resend", tickets_enabled=setting("sms.tickets_enabled"),
        balance=tickets.balance(), now=clock.now(), merge_fields=send.merge_fields)


MAX_REFUSALS_SHOWN = 100


@dataclass(frozen=True)
class Refusal:
    """A recipient whose own text (after 差し込み) cannot be sent: it gets none of the messages."""

    position: int
    line: int | None
    number: str
    reason: str


@dataclass(frozen=True)
class ConfirmScreen:
    """What the confirm screen shows: each message checked and as one recipient gets it, the first recipients,
    parts and cost, tickets, what was left out, and the warnings and advice of sms.bulk.guards."""

    checks: list[TextCheck]
    samples: list[str]              # the first sendable recipient's messages exactly as sent (URLs filled in)
    sample_number: str
    numbers: list[str]
    needed: int
    tickets_enabled: bool
    balance: int
    skipped_counts: list[tuple[str, str, int]]
    part_total: int                 # SMS parts of the whole send (通)
    message_total: int              # messages of the whole send (件)
    price_per_part: float
    cost: int | None
    refusals: list[Refusal]
    refusal_count: int
    warnings: list[str]
    advice: list[str]
    merge_fields: list[str]


def confirm_screen(send: BulkSend, form: sends.MessageForm) -> ConfirmScreen:
    urls = [box_url(box) for box in form.boxes]
    checks = [sends.check_template(text, url) for text, url in zip(form.texts, urls)]
    totals = personal_totals(send, form, checks)
    sample = totals.sample or form.texts
    price = setting("bulk.price_per_part")
    return ConfirmScreen(
        checks=checks, samples=[as_sent(text, url) for text, url in zip(sample, urls)],
        sample_number=totals.sample_number, numbers=history.preview_numbers(send.id),
        needed=needed_tickets(send, form), tickets_enabled=setting("sms.tickets_enabled"), balance=tickets.balance(),
        skipped_counts=skipped_counts(send), part_total=totals.parts, message_total=totals.messages,
        price_per_part=price, cost=guards.estimated_cost(totals.parts, price), refusals=totals.refusals,
        refusal_count=totals.refused,
        warnings=guards.timing_warnings(form.scheduled_at or clock.now(),
                                        parse_window(setting("sms.no_resend_window"))),
        advice=guards.text_advice(form.texts, setting("sms.company_name"), setting("sms.optout_placeholder")),
        merge_fields=send.merge_fields)


@dataclass
class Totals:
    parts: int = 0
    messages: int = 0
    refused: int = 0
    refusals: list[Refusal] = field(default_factory=list)
    sample: list[str] | None = None
    sample_number: str = ""


def personal_totals(send: BulkSend, form: sends.MessageForm, checks: list[TextCheck]) -> Totals:
    """Messages and parts of the whole send; with 差し込み, each recipient's own text counted and checked."""
    counts = slot_counts(send, len(form.texts))
    totals = Totals()
    first = history.preview_numbers(send.id, limit=1)
    totals.sample_number = first[0] if first else ""
    if not merge.uses_fields(form.texts, send.merge_fields):
        totals.messages = sum(counts)
        totals.parts = sum(check.parts * count for check, count in zip(checks, counts))
        return totals
    names = send.merge_fields
    for personal in sends.personal_texts(send, form.texts, form.boxes):
        if personal.problem:
            totals.refused += 1
            if len(totals.refusals) < MAX_REFUSALS_SHOWN:
                totals.refusals.append(Refusal(personal.position + 1, personal.line, phone.display(personal.to_number),
                                               personal.problem))
            continue
        if totals.sample is None:
            row = BulkRecipient.get_by_id(personal.recipient_id)
            totals.sample = [merge.fill(text, names, row.field_values) for text in form.texts]
            totals.sample_number = phone.display(personal.to_number)
        wanted = personal_slots(send, personal.recipient_id, len(form.texts))
        totals.messages += sum(wanted)
        totals.parts += sum(check.parts for check, want in zip(personal.checks, wanted) if want)
    return totals


def slot_counts(send: BulkSend, message_count: int) -> list[int]:
    """How many recipients get each message: all of them, except in a resend (the slots that failed)."""
    if send.source != "resend":
        return [send.recipient_count] * message_count
    states = (BulkRecipient.state1, BulkRecipient.state2)[:message_count]
    return [BulkRecipient.select().where((BulkRecipient.bulk_send == send.id) & (state != SLOT_NONE)).count()
            for state in states]


def personal_slots(send: BulkSend, recipient_id: int, message_count: int) -> list[bool]:
    if send.source != "resend":
        return [True] * message_count
    row = BulkRecipient.get_by_id(recipient_id)
    return [row.slot_state(i) != SLOT_NONE for i in range(message_count)]


def as_sent(text: str, url: str | None) -> str:
    """A text as a recipient reads it: {url} and {optout_url} become links of the length they will have
    (each message gets its own, so the letters after /s/ and /optout/ differ from recipient to recipient)."""
    url_placeholder, optout_placeholder = setting("sms.url_placeholder"), setting("sms.optout_placeholder")
    body = text + url_line(text, url, url_placeholder)  # a URL with no {url} in the text is appended
    if url and url_placeholder in body:
        body = body.replace(url_placeholder, links.short_url(links.new_code()))
    if optout_placeholder in body:
        body = body.replace(optout_placeholder, links.optout_url(links.new_optout_token()))
    return body


# --- "test to me" --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestSend:
    ok: bool
    number: str                      # as shown (090-…), or as typed when refused
    message_ids: tuple[int, ...] = ()
    error: str = ""


def send_test(send: BulkSend, form: sends.MessageForm, raw_number: str, actor: str) -> TestSend:
    """The send's messages, as its first sendable recipient gets them, to the user's own phone: queued through
    the normal outbox (the dispatcher sends them; the delivery log shows them as the user's test sends)."""
    number = phone.check_mobile(raw_number)
    if not number.ok:
        return TestSend(False, (raw_number or "").strip(), error=f"自分の携帯電話番号: {number.reason}")
    urls = [box_url(box) for box in form.boxes]
    texts = first_sendable_texts(send, form)
    ids = []
    for text, url, box in zip(texts, urls, form.boxes):
        result = queue_text(text, number.e164, source="ui", url=url or "", box_number=box, created_by=actor)
        if not result.ok:
            return TestSend(False, phone.display(number.e164), tuple(ids), f"テスト送信できません: {result.reason}")
        ids.append(result.message_id)
    audit.record("bulk.test_sent", send.label, {"to": number.e164, "message_ids": ids, "by": actor})
    return TestSend(True, phone.display(number.e164), tuple(ids))


def first_sendable_texts(send: BulkSend, form: sends.MessageForm) -> list[str]:
    """The messages with the first recipient's CSV values filled in (the first whose text can be sent)."""
    if not merge.uses_fields(form.texts, send.merge_fields):
        return list(form.texts)
    for personal in sends.personal_texts(send, form.texts, form.boxes):
        if not personal.problem:
            row = BulkRecipient.get_by_id(personal.recipient_id)
            return [merge.fill(text, send.merge_fields, row.field_values) for text in form.texts]
    return list(form.texts)
