"""Reading bulk sends back: the history list, each recipient's status, the progress figures (R-46, R-47)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from peewee import JOIN, fn

from core import phone
from core.config import setting
from core.pagination import Page, paginate
from sms.bulk.models import SLOT_LABELS, SLOT_QUEUED, STATUS_LABELS, BulkRecipient, BulkSend, BulkSkipped
from sms.bulk.progress import REMAINING_STATES, Progress, summarise
from sms.models import STATE_LABELS, Message


def sends_query(status: str | None = None):
    query = BulkSend.select().order_by(BulkSend.created_at.desc(), BulkSend.id.desc())
    if status:
        query = query.where(BulkSend.status == status)
    return query


def progress_of(send_id: int) -> Progress:
    """Outbox rows of the send by state, plus the slots that have none (pending, no ticket, refused)."""
    message_states = dict(Message.select(Message.state, fn.COUNT(Message.id))
                          .where(Message.bulk_send_id == send_id).group_by(Message.state).tuples())
    open_slots: dict[str, int] = {}
    for state, message_id in ((BulkRecipient.state1, BulkRecipient.message1_id),
                              (BulkRecipient.state2, BulkRecipient.message2_id)):
        rows = (BulkRecipient.select(state, fn.COUNT(BulkRecipient.id))
                .where((BulkRecipient.bulk_send == send_id) & message_id.is_null()).group_by(state).tuples())
        for name, count in rows:
            open_slots[name] = open_slots.get(name, 0) + count
    return summarise(message_states, open_slots)


@dataclass(frozen=True)
class SlotView:
    state: str
    label: str
    error: str
    failed: bool
    message_id: int | None = None  # its outbox row, if any (個別送信 starts from it)


@dataclass(frozen=True)
class RecipientView:
    position: int
    number: str
    e164: str
    line: int | None
    slots: tuple[SlotView, ...]


def recipients_query(send_id: int, only_failed: bool = False):
    first, second = Message.alias(), Message.alias()
    query = (BulkRecipient
             .select(BulkRecipient, first.state.alias("m1_state"), first.error_message.alias("m1_error"),
                     second.state.alias("m2_state"), second.error_message.alias("m2_error"))
             .join(first, join_type=JOIN.LEFT_OUTER, on=(first.id == BulkRecipient.message1_id))
             .switch(BulkRecipient)
             .join(second, join_type=JOIN.LEFT_OUTER, on=(second.id == BulkRecipient.message2_id))
             .where(BulkRecipient.bulk_send == send_id)
             .order_by(BulkRecipient.position))
    if only_failed:
        query = query.where((BulkRecipient.state1 == "no_ticket") | (BulkRecipient.state2 == "no_ticket")
                            | (first.state == "failed") | (second.state == "failed"))
    return query.objects()


def recipient_view(row, message_count: int) -> RecipientView:
    slots = []
    for index in range(message_count):
        state = row.slot_state(index)
        message_state = getattr(row, f"m{index + 1}_state")
        error = getattr(row, f"m{index + 1}_error") or ""
        if state == SLOT_QUEUED and message_state:
            label = STATE_LABELS.get(message_state, message_state)
            failed = message_state == "failed"
        else:
            label = SLOT_LABELS.get(state, state)
            failed = state in ("no_ticket", "error", "opted_out")
            error = error or (row.problem if state == "error" and row.problem else "") or (label if failed else "")
        slots.append(SlotView(state, label, error, failed, getattr(row, f"message{index + 1}_id")))
    return RecipientView(row.position + 1, phone.display(row.to_number), row.to_number, row.line, tuple(slots))


@dataclass(frozen=True)
class ShownStatus:
    status: str
    label: str


def shown_status(send: BulkSend, progress: Progress) -> ShownStatus:
    """The send's state as people read it: 配信完了 only once every message has left the outbox (the runner
    completes a send when every recipient is in the outbox; until they are all handed over it is still 配信中)."""
    return _shown(send, handing_over=progress.remaining > 0)


def shown_statuses(sends: list[BulkSend]) -> dict[int, ShownStatus]:
    """The same for a page of the history list, with one query for all its completed sends."""
    completed = [send.id for send in sends if send.status == "completed"]
    handing_over = set()
    if completed:
        handing_over = {send_id for (send_id,) in Message.select(Message.bulk_send_id).distinct()
                        .where(Message.bulk_send_id.in_(completed) & Message.state.in_(REMAINING_STATES)).tuples()}
    return {send.id: _shown(send, send.id in handing_over) for send in sends}


def _shown(send: BulkSend, handing_over: bool) -> ShownStatus:
    if send.status == "completed" and handing_over:
        return ShownStatus("running", STATUS_LABELS["running"])
    return ShownStatus(send.status, send.status_label)


@dataclass(frozen=True)
class LiveView:
    """The detail page's changing part: figures, state, and one page of recipients."""

    progress: Progress
    shown: ShownStatus
    page: Page
    rows: list[RecipientView]
    only_failed: bool


def live_view(send: BulkSend, page_number: str | None, only_failed: bool) -> LiveView:
    progress = progress_of(send.id)
    page = paginate(recipients_query(send.id, only_failed), page_number, setting("web.page_size"))
    rows = [recipient_view(row, len(send.messages)) for row in page.items]
    return LiveView(progress, shown_status(send, progress), page, rows, only_failed)


def skipped_query(send_id: int, kind: str | None = None):
    query = BulkSkipped.select().where(BulkSkipped.bulk_send == send_id).order_by(BulkSkipped.line, BulkSkipped.id)
    if kind:
        query = query.where(BulkSkipped.kind == kind)
    return query


def preview_numbers(send_id: int, limit: int = 100) -> list[str]:
    rows = (BulkRecipient.select(BulkRecipient.to_number).where(BulkRecipient.bulk_send == send_id)
            .order_by(BulkRecipient.position).limit(limit).tuples())
    return [phone.display(number) for (number,) in rows]


# --- CSV downloads (core.csvfile writes them) ------------------------------------------------------------------------
SKIPPED_HEADER = ["行", "入力", "種類", "理由"]


def recipients_header(message_count: int) -> list[str]:
    per_message = [[f"メッセージ{n} 状態", f"メッセージ{n} エラー"] for n in range(1, message_count + 1)]
    return ["#", "電話番号", "CSV の行", *(name for pair in per_message for name in pair)]


def recipient_csv_rows(send_id: int, message_count: int, only_failed: bool = False) -> Iterator[list]:
    """The detail page's recipient list, every row (read as the download streams)."""
    for row in recipients_query(send_id, only_failed).iterator():
        view = recipient_view(row, message_count)
        slots = [[slot.label, slot.error if slot.error != slot.label else ""] for slot in view.slots]
        yield [view.position, view.number, view.line, *(value for pair in slots for value in pair)]


def skipped_csv_rows(send_id: int, kind: str | None = None) -> Iterator[list]:
    """What the send left out, as typed or uploaded (hostile cells are guarded by the writer)."""
    for skipped in skipped_query(send_id, kind).iterator():
        yield [skipped.line, skipped.raw, skipped.kind_label, skipped.reason]
