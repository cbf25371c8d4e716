"""Creating, editing, confirming, cancelling and resending bulk sends: what the pages and the API share.

Views and the API stay thin: they read the request, call these, and show the result. Every refusal is a
`BulkError` with Japanese messages naming the field and the problem.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from peewee import JOIN, Case

from core import audit, clock
from core.config import setting
from core.db import database, insert_rows
from core.inputs import InputError, json_int, parse_datetime, parse_int
from core.phone import plain_mobile_e164
from sms import public as sms_public
from sms import tickets
from sms.bulk import merge
from sms.bulk.allocation import shortage_message, tickets_needed
from sms.bulk.models import (
    MAX_MESSAGES,
    SLOT_ERROR,
    SLOT_NO_TICKET,
    SLOT_NONE,
    SLOT_PENDING,
    BulkRecipient,
    BulkSend,
    BulkSkipped,
)
from sms.bulk.recipients import BrokenRow, Candidate, Recipient, RecipientList, Skipped, collect
from sms.models import MAX_BOX_NUMBER, Message, OptOut, StorageBox
from sms.public import check_mobile
from sms.rules import TextCheck
from sms.sending import check_template

MAX_SCHEDULE_DAYS = 366


class BulkError(Exception):
    """A request that cannot be done; `errors` are Japanese sentences for people."""

    def __init__(self, *errors: str, code: str = "invalid"):
        super().__init__(" ".join(errors))
        self.errors = list(errors)
        self.code = code


@dataclass
class MessageForm:
    """What the message screen (or the API) asks for: texts, their storage boxes, and when."""

    texts: list[str] = field(default_factory=lambda: [""])
    boxes: list[int | None] = field(default_factory=lambda: [None])
    immediate: bool = True
    scheduled_at: dt.datetime | None = None
    title: str = ""
    scheduled_text: str = ""  # as typed, to show it again after an error


# --- recipients ------------------------------------------------------------------------------------------------
def opted_out_numbers() -> set[str]:
    return {number for (number,) in OptOut.select(OptOut.number).tuples()}


def build_recipients(candidates: Iterable[Candidate]) -> RecipientList:
    """De-duplicated mobile numbers of the input, checked by the SMS rules; opted-out numbers left out."""
    return collect(candidates, check_mobile, opted_out_numbers(), quick=plain_mobile_e164)


def caller_numbers(since: dt.date | None = None, until: dt.date | None = None) -> list[str]:
    """Distinct mobile numbers that called (newest first), from the packages that offer theirs (ivr)."""
    return [number for number in sms_public.caller_numbers(since, until) if check_mobile(number).ok]


def create_draft(found: RecipientList, *, source: str, actor: str, source_detail: str = "", via: str = "ui",
                 broken: Sequence[BrokenRow] = (), empty: Sequence[Skipped] = (), resend_of: int | None = None,
                 wants: Sequence[tuple[bool, bool]] | None = None, messages: Sequence[str] = (),
                 boxes: Sequence[int | None] = (), field_names: Sequence[str] = ()) -> BulkSend:
    """A send in the draft state holding its recipients; refused when nobody is left to send to."""
    check_recipient_count(found)
    now = clock.now()
    with database.atomic():
        send = BulkSend.create(
            status="draft", source=source, source_detail=source_detail[:300], via=via, created_by=actor,
            created_at=now, updated_at=now, resend_of=resend_of,
            message1=messages[0] if messages else "", message2=messages[1] if len(messages) > 1 else None,
            box1=boxes[0] if boxes else None, box2=boxes[1] if len(boxes) > 1 else None,
            field_names=json.dumps(list(field_names), ensure_ascii=False) if field_names else None,
        )
        store_recipients(send, found, broken, empty, wants)
    return BulkSend.get_by_id(send.id)


def replace_recipients(send: BulkSend, found: RecipientList, *, source: str, actor: str, source_detail: str = "",
                       broken: Sequence[BrokenRow] = (), empty: Sequence[Skipped] = (),
                       field_names: Sequence[str] = ()) -> BulkSend:
    """New recipients for a send not yet started (a scheduled one must still have enough tickets)."""
    check_recipient_count(found)
    with database.atomic():
        lock_editable(send.id)
        BulkRecipient.delete().where(BulkRecipient.bulk_send == send.id).execute()
        BulkSkipped.delete().where(BulkSkipped.bulk_send == send.id).execute()
        BulkSend.update(source=source, source_detail=source_detail[:300],
                        field_names=json.dumps(list(field_names), ensure_ascii=False) if field_names else None,
                        ).where(BulkSend.id == send.id).execute()
        send = BulkSend.get_by_id(send.id)
        store_recipients(send, found, broken, empty, None)
        if send.status == "scheduled":
            apply_message_count(send, len(send.messages))
            refuse_personal_texts(send, send.messages, send.boxes)
            refuse_if_short(slot_total(send.id))
            BulkSend.update(slot_count=slot_total(send.id)).where(BulkSend.id == send.id).execute()
    audit.record("bulk.recipients_replaced", send.label, {"recipients": len(found.recipients), "by": actor})
    return BulkSend.get_by_id(send.id)


def check_recipient_count(found: RecipientList) -> None:
    if not found.recipients:
        raise BulkError("配信できる電話番号がありません（携帯電話番号が 0 件です）。スキップした番号の理由を確認してください。",
                        code="no_recipients")
    limit = setting("bulk.max_recipients")
    if len(found.recipients) > limit:
        raise BulkError(f"配信先が多すぎます（{len(found.recipients):,} 名。1 回の一括配信は最大 {limit:,} 名です）。",
                        code="too_many_recipients")


def store_recipients(send: BulkSend, found: RecipientList, broken: Sequence[BrokenRow], empty: Sequence[Skipped],
                     wants: Sequence[tuple[bool, bool]] | None) -> None:
    """Insert recipient and skipped rows in chunks (a 100,000-line CSV is one draft)."""
    fields = [BulkRecipient.bulk_send, BulkRecipient.position, BulkRecipient.to_number, BulkRecipient.raw,
              BulkRecipient.line, BulkRecipient.state1, BulkRecipient.state2, BulkRecipient.fields]
    wants = wants or [(True, False)] * len(found.recipients)
    rows = []
    for position, (recipient, (want1, want2)) in enumerate(zip(found.recipients, wants)):
        values = json.dumps(list(recipient.fields), ensure_ascii=False) if recipient.fields else None
        rows.append((send.id, position, recipient.e164, recipient.raw[:40], recipient.line,
                     SLOT_PENDING if want1 else SLOT_NONE, SLOT_PENDING if want2 else SLOT_NONE, values))
    insert_rows(BulkRecipient, fields, rows)
    skipped = [(send.id, "invalid", s.raw[:100], s.line, s.reason[:200]) for s in found.skipped]
    skipped += [(send.id, "empty", s.raw[:100], s.line, s.reason[:200]) for s in empty]
    skipped += [(send.id, "duplicate", c.raw[:100], c.line, "同じ電話番号が既にあります（1 回だけ送信します）")
                for c in found.duplicates]
    skipped += [(send.id, "optout", s.raw[:100], s.line, s.reason[:200]) for s in found.opted_out]
    skipped += [(send.id, "broken", b.text[:100], b.line, b.reason[:200]) for b in broken]
    insert_rows(BulkSkipped, [BulkSkipped.bulk_send, BulkSkipped.kind, BulkSkipped.raw, BulkSkipped.line,
                                BulkSkipped.reason], skipped)
    BulkSend.update(
        recipient_count=len(found.recipients), duplicate_count=len(found.duplicates),
        invalid_count=len(found.skipped) + len(empty), optout_count=len(found.opted_out), broken_count=len(broken),
        slot_count=tickets_needed(wants),
    ).where(BulkSend.id == send.id).execute()


# --- messages and schedule -------------------------------------------------------------------------------------
def read_message_form(texts: Sequence[str], boxes: Sequence[str | int | None], *, schedule: bool,
                      scheduled_text: str = "", title: str = "",
                      field_names: Sequence[str] | None = None) -> tuple[MessageForm, list[str]]:
    """The message screen's input, checked like any SMS (R-22, R-23) with the placeholders allowed; errors listed.
    With `field_names` (the pages), a `{…}` that is neither a placeholder nor one of them is refused (差し込み)."""
    texts = [(t or "").replace("\r\n", "\n") for t in texts][:MAX_MESSAGES] or [""]  # no field at all: one empty
    boxes = list(boxes)[:len(texts)] + [None] * (len(texts) - len(boxes))
    # An empty second field is ignored rather than refused: the user pressed "+" and changed their mind.
    while len(texts) > 1 and not texts[-1].strip() and boxes[-1] in (None, ""):
        texts.pop()
        boxes.pop()
    form = MessageForm(texts=texts, boxes=[], immediate=not schedule, title=(title or "").strip()[:100],
                       scheduled_text=scheduled_text or "")
    errors: list[str] = []
    for index, (text, box_value) in enumerate(zip(texts, boxes), start=1):
        box, box_error = resolve_box(box_value, index)
        form.boxes.append(box.number if box else None)
        if box_error:
            errors.append(box_error)
        if box and not text.strip():
            text = form.texts[index - 1] = box.body
        checked = check_template(text, box.url if box else None)
        form.texts[index - 1] = checked.text
        errors += [f"メッセージ{index}: {e}" for e in checked.errors]
        unknown = merge.unknown_fields(checked.text, field_names or (), placeholders()) if field_names is not None else []
        if unknown:
            errors.append(merge.unknown_field_message(index, unknown, field_names or ()))
    if schedule:
        form.scheduled_at, error = parse_schedule(scheduled_text)
        if error:
            errors.append(error)
    return form, errors


def resolve_box(value, index: int) -> tuple[StorageBox | None, str | None]:
    """A box chosen on the page (text) or given by the API (a JSON number or text)."""
    if value in (None, ""):
        return None, None
    label = f"メッセージ{index}: 蓄積BOX番号"
    try:
        if isinstance(value, str):
            number = parse_int(value, label, minimum=1, maximum=MAX_BOX_NUMBER)
        else:
            number = json_int(value, label, minimum=1, maximum=MAX_BOX_NUMBER)
    except InputError as error:
        return None, error.message
    box = StorageBox.get_or_none(StorageBox.number == number)
    if box is None:
        return None, f"メッセージ{index}: 蓄積BOX {number} は登録されていません。"
    return box, None


def parse_schedule(text: str) -> tuple[dt.datetime | None, str | None]:
    """配信日時: a future time within a year (Tokyo wall-clock)."""
    if not (text or "").strip():
        return None, "配信日時を入力してください（「配信時間を指定する」にチェックがあります）。"
    try:
        when = parse_datetime(text, "配信日時")
    except InputError as error:
        return None, error.message
    now = clock.now()
    if when <= now:
        return None, f"配信日時 {when:%Y-%m-%d %H:%M} は過去の時刻です。現在（{now:%Y-%m-%d %H:%M}）より後を指定してください。"
    if when > now + dt.timedelta(days=MAX_SCHEDULE_DAYS):
        return None, "配信日時は 1 年以内で指定してください。"
    return when, None


def confirm(send_id: int, form: MessageForm, actor: str) -> BulkSend:
    """『⇒配信する』/『⇒配信を予約する』: store the messages and time, refuse when tickets are short (R-44)."""
    now = clock.now()
    with database.atomic():
        send = lock_editable(send_id)
        if send.source == "resend" and len(form.texts) != len(send.messages):
            raise BulkError("配信エラーの再送では、メッセージの数は元の配信と同じにしてください。")
        apply_message_count(send, len(form.texts))
        refuse_personal_texts(send, form.texts, form.boxes)
        needed = slot_total(send_id)
        refuse_if_short(needed)
        BulkSend.update(
            status="scheduled", immediate=form.immediate,
            scheduled_at=now if form.immediate else form.scheduled_at,
            message1=form.texts[0], message2=form.texts[1] if len(form.texts) > 1 else None,
            box1=form.boxes[0], box2=form.boxes[1] if len(form.boxes) > 1 else None,
            title=form.title or send.title, slot_count=needed, confirmed_at=now, confirmed_by=actor, updated_at=now,
        ).where(BulkSend.id == send_id).execute()
    send = BulkSend.get_by_id(send_id)
    audit.record("bulk.scheduled" if not form.immediate else "bulk.confirmed", send.label,
                 {"recipients": send.recipient_count, "messages": len(send.messages), "tickets": needed,
                  "scheduled_at": send.scheduled_at, "by": actor})
    return send


def lock_editable(send_id: int) -> BulkSend:
    """Touch the send only while it has not started; the runner's start takes the same row, so they serialise."""
    changed = BulkSend.update(updated_at=clock.now()).where(
        (BulkSend.id == send_id) & (BulkSend.status.in_(("draft", "scheduled")))).execute()
    if not changed:
        send = BulkSend.get_or_none(BulkSend.id == send_id)
        if send is None:
            raise BulkError("一括配信が見つかりません。", code="not_found")
        raise BulkError(f"この一括配信は「{send.status_label}」のため変更できません。", code="not_editable")
    return BulkSend.get_by_id(send_id)


def apply_message_count(send: BulkSend, count: int) -> None:
    """Every recipient gets every message, except in a resend, whose slots say which message each one missed."""
    if send.source == "resend":
        return
    BulkRecipient.update(state1=SLOT_PENDING, state2=SLOT_PENDING if count > 1 else SLOT_NONE).where(
        BulkRecipient.bulk_send == send.id).execute()


def placeholders() -> tuple[str, str]:
    return setting("sms.url_placeholder"), setting("sms.optout_placeholder")


@dataclass(frozen=True)
class PersonalText:
    """One recipient's messages after 差し込み, each checked as the SMS it becomes."""

    recipient_id: int
    position: int
    line: int | None
    to_number: str
    checks: tuple[TextCheck, ...]

    @property
    def problem(self) -> str:
        """Why this recipient's text cannot be sent ("" when it can), naming the message."""
        return " ".join(f"メッセージ{i}: {' '.join(c.errors)}" for i, c in enumerate(self.checks, start=1)
                        if not c.ok)[:200]


def personal_texts(send: BulkSend, texts: Sequence[str], boxes: Sequence[int | None]) -> Iterator[PersonalText]:
    """Each recipient's messages with its CSV values filled in and checked (length, parts, ISO-2022-JP), in order.
    Only for a send whose texts use merge fields; the same filled text is checked once."""
    names = send.merge_fields
    urls = [box_url(box) for box in boxes]
    judged: dict[tuple[str, str | None], TextCheck] = {}
    query = (BulkRecipient.select(BulkRecipient.id, BulkRecipient.position, BulkRecipient.line,
                                  BulkRecipient.to_number, BulkRecipient.fields)
             .where(BulkRecipient.bulk_send == send.id).order_by(BulkRecipient.position))
    for row in query.iterator():
        values = row.field_values
        checks = []
        for text, url in zip(texts, urls):
            filled = merge.fill(text, names, values)
            check = judged.get((filled, url))
            if check is None:
                check = judged[(filled, url)] = check_template(filled, url)
            checks.append(check)
        yield PersonalText(row.id, row.position, row.line, row.to_number, tuple(checks))


def refuse_personal_texts(send: BulkSend, texts: Sequence[str], boxes: Sequence[int | None]) -> int:
    """差し込み: a recipient whose own text cannot be sent gets none of the messages (slot "error", with why);
    the others are sent as usual. Returns how many were refused; refused when nobody would be left."""
    BulkRecipient.update(problem="").where((BulkRecipient.bulk_send == send.id) & (BulkRecipient.problem != "")).execute()
    if not merge.uses_fields(texts, send.merge_fields):
        return 0
    refused = 0
    for personal in personal_texts(send, texts, boxes):
        if personal.problem:
            refused += 1
            BulkRecipient.update(state1=Case(None, [(BulkRecipient.state1 == SLOT_PENDING, SLOT_ERROR)],
                                             BulkRecipient.state1),
                                 state2=Case(None, [(BulkRecipient.state2 == SLOT_PENDING, SLOT_ERROR)],
                                             BulkRecipient.state2),
                                 problem=personal.problem).where(BulkRecipient.id == personal.recipient_id).execute()
    if refused and refused >= send.recipient_count:
        raise BulkError("差し込み後の本文が、すべての配信先で送信できません。本文か CSV の内容を確認してください。")
    return refused


def box_url(number: int | None) -> str | None:
    box = StorageBox.get_or_none(StorageBox.number == number) if number is not None else None
    return box.url if box and box.url else None


def slot_total(send_id: int) -> int:
    one = BulkRecipient.select().where((BulkRecipient.bulk_send == send_id) & (BulkRecipient.state1 == SLOT_PENDING))
    two = BulkRecipient.select().where((BulkRecipient.bulk_send == send_id) & (BulkRecipient.state2 == SLOT_PENDING))
    return one.count() + two.count()


def refuse_if_short(needed: int) -> None:
    if not setting("sms.tickets_enabled"):
        return
    problem = shortage_message(needed, tickets.balance())
    if problem:
        raise BulkError(problem, code="insufficient_tickets")


def cancel(send_id: int, actor: str) -> BulkSend:
    now = clock.now()
    with database.atomic():
        send = lock_editable(send_id)
        BulkSend.update(status="cancelled", cancelled_at=now, cancelled_by=actor).where(BulkSend.id == send_id).execute()
    audit.record("bulk.cancelled", send.label, {"by": actor, "was": send.status})
    return BulkSend.get_by_id(send_id)


# --- resend of failures (R-46) ---------------------------------------------------------------------------------
def failed_slots(send_id: int) -> list[tuple[BulkRecipient, tuple[bool, bool]]]:
    """Recipients with a message that failed (no ticket, or a final failure receipt), and which of their messages."""
    first = Message.alias()
    second = Message.alias()
    query = (BulkRecipient
             .select(BulkRecipient, first.state.alias("m1_state"), second.state.alias("m2_state"))
             .join(first, join_type=JOIN.LEFT_OUTER, on=(first.id == BulkRecipient.message1_id))
             .switch(BulkRecipient)
             .join(second, join_type=JOIN.LEFT_OUTER, on=(second.id == BulkRecipient.message2_id))
             .where(BulkRecipient.bulk_send == send_id)
             .order_by(BulkRecipient.position)
             .objects())
    out = []
    for row in query:
        wants = (slot_failed(row.state1, row.m1_state), slot_failed(row.state2, row.m2_state))
        if any(wants):
            out.append((row, wants))
    return out


def slot_failed(slot_state: str, message_state: str | None) -> bool:
    """Worth resending: no ticket paid for it, or the carrier reported a final failure. Opted-out numbers are not."""
    if slot_state == SLOT_NO_TICKET:
        return True
    return slot_state == "queued" and message_state == "failed"


def failed_numbers(send_id: int) -> list[str]:
    return [row.to_number for row, _ in failed_slots(send_id)]


def resend_failures(send_id: int, actor: str) -> BulkSend:
    """A new draft with the failed numbers and, for each, only the messages that failed; the confirm screen comes next."""
    original = BulkSend.get_or_none(BulkSend.id == send_id)
    if original is None:
        raise BulkError("一括配信が見つかりません。", code="not_found")
    if original.status not in ("running", "completed"):
        raise BulkError("配信が始まっていないため、再送する配信エラーはありません。")
    failed = failed_slots(send_id)
    if not failed:
        raise BulkError("配信エラーになった電話番号はありません。", code="no_recipients")
    found = RecipientList()
    wants = []
    opted_out = opted_out_numbers()
    for row, want in failed:
        if row.to_number in opted_out:
            continue
        found.recipients.append(_recipient(row))
        wants.append(want)
    send = create_draft(found, source="resend", actor=actor, source_detail=f"{original.label} の配信エラー",
                        resend_of=original.id, wants=wants, messages=original.messages, boxes=original.boxes,
                        field_names=original.merge_fields)
    audit.record("bulk.resend_created", send.label, {"of": original.id, "recipients": len(wants), "by": actor})
    return send


def _recipient(row: BulkRecipient) -> Recipient:
    return Recipient(row.to_number, row.raw, row.line, tuple(row.field_values) if row.fields else None)


# --- housekeeping ----------------------------------------------------------------------------------------------
def purge_old_drafts(now: dt.datetime | None = None) -> int:
    """Drafts nobody confirmed within `bulk.draft_days` are deleted (their recipient rows with them)."""
    cutoff = (now or clock.now()) - dt.timedelta(days=setting("bulk.draft_days"))
    old = [s.id for s in BulkSend.select(BulkSend.id).where((BulkSend.status == "draft") & (BulkSend.updated_at < cutoff))]
    for send_id in old:
        with database.atomic():
            BulkRecipient.delete().where(BulkRecipient.bulk_send == send_id).execute()
            BulkSkipped.delete().where(BulkSkipped.bulk_send == send_id).execute()
            BulkSend.delete().where(BulkSend.id == send_id).execute()
    return len(old)
