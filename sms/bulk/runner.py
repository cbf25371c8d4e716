"""Running bulk sends: start what is due, spend the tickets, move recipients into the SMS outbox, finish.

Every step is a database transaction that can be repeated after a crash:
- start: one guarded UPDATE moves the send from `scheduled` to `running` and, in the same transaction, takes the
  tickets and marks the slots they do not cover as "チケット不足" (R-45). A restart finds it running and skips this.
- dispatch: a batch of unsettled recipients is claimed; each wanted slot becomes one outbox row, as
  `sms.sending.queue_text` makes it, with the slot's idempotency key (set-based: sms.bulk.outbox_fill), and the
  slot records the row, in the same transaction.
  Killed half-way, the batch rolls back and is done again; an outbox row already committed is found by its key.
  Sending to the carrier is the SMS dispatcher's job, which sends each outbox row once.
- finish: when no slot is pending the send is completed and tickets of slots that ended up unsent are returned.
Schedules live in `bulk_send`, so a time missed while the process was down is simply due at the next poll.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

from peewee import fn

from core import audit, clock, events
from core.config import setting
from core.db import database, for_update_skip_locked, write_transaction
from sms import tickets
from sms.bulk import outbox_fill
from sms.bulk.allocation import NO_TICKET_REASON, allocate
from sms.bulk.models import (
    SLOT_NO_TICKET,
    SLOT_PENDING,
    SLOT_QUEUED,
    BulkRecipient,
    BulkSend,
)
from sms.bulk.sends import purge_old_drafts
from sms.models import StorageBox

log = logging.getLogger("sms.bulk")
# One poll moves recipients for at most this long, so other jobs of the scheduler thread get their turn.
POLL_BUDGET_SECONDS = 20


@dataclass
class PollResult:
    started: int = 0
    queued: int = 0
    completed: int = 0

    def __str__(self) -> str:
        return f"started={self.started} queued={self.queued} completed={self.completed}"


def poll(budget_seconds: float = POLL_BUDGET_SECONDS) -> PollResult:
    """The scheduled job: start every due send (however late), move recipients into the outbox, finish sends."""
    result = PollResult()
    purge_old_drafts()
    for send_id in due_send_ids():
        result.started += bool(start(send_id))
    deadline = time.monotonic() + budget_seconds
    for send_id in running_send_ids():
        while time.monotonic() < deadline:
            moved = dispatch_batch(send_id)
            result.queued += moved
            if not moved:
                break
        result.completed += bool(finish_if_done(send_id))
    return result


def due_send_ids(now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    query = BulkSend.select(BulkSend.id).where((BulkSend.status == "scheduled") & (BulkSend.scheduled_at <= now))
    return [row.id for row in query.order_by(BulkSend.scheduled_at, BulkSend.id)]


def running_send_ids() -> list[int]:
    return [row.id for row in BulkSend.select(BulkSend.id).where(BulkSend.status == "running").order_by(BulkSend.id)]


# --- start ------------------------------------------------------------------------------------------------------
def start(send_id: int) -> bool:
    """Take a due send (once, whoever else polls), pay for what the tickets allow, mark the rest チケット不足."""
    now = clock.now()
    with write_transaction():
        taken = BulkSend.update(status="running", started_at=now, updated_at=now).where(
            (BulkSend.id == send_id) & (BulkSend.status == "scheduled") & (BulkSend.scheduled_at <= now)).execute()
        if not taken:
            return False
        send = BulkSend.get_by_id(send_id)
        rows = database.execute(BulkRecipient.select(BulkRecipient.id, BulkRecipient.state1, BulkRecipient.state2)
                                .where(BulkRecipient.bulk_send == send_id).order_by(BulkRecipient.position)).fetchall()
        wants = [(s1 == SLOT_PENDING, s2 == SLOT_PENDING) for _, s1, s2 in rows]
        paid = take_tickets(send, sum(a + b for a, b in wants)) if setting("sms.tickets_enabled") else None
        allocation = allocate(wants, paid)
        if allocation.first_denied is not None:
            mark_no_ticket([row[0] for row in rows], allocation.first_denied)
        BulkSend.update(tickets_used=paid or 0).where(BulkSend.id == send_id).execute()
        settle(send_id)
    audit.record("bulk.started", send.label, {"recipients": send.recipient_count, "tickets_used": paid,
                                              "no_ticket": allocation.denied}, actor="system")
    if allocation.denied:
        log.warning("bulk send %s: %s messages not sent (%s)", send_id, allocation.denied, NO_TICKET_REASON)
    return True


def take_tickets(send: BulkSend, needed: int) -> int:
    """Use as many tickets as the send needs, or all that are left; the ledger names the send."""
    for _ in range(5):  # another sender may use a ticket between reading the balance and taking it
        count = min(needed, tickets.balance())
        if count == 0:
            return 0
        if tickets.consume(count, reason=f"{send.label} 配信開始（必要 {needed} 枚）", bulk_send_id=send.id,
                           actor=send.confirmed_by or send.created_by):
            return count
    return 0


def mark_no_ticket(recipient_ids: list[int], first_denied: tuple[int, int]) -> None:
    """Tickets run out at one slot: it and every later slot, recipient by recipient, go unsent (R-45)."""
    index, message = first_denied
    later = recipient_ids[index + 1:]
    for start_at in range(0, len(later), 500):
        chunk = later[start_at:start_at + 500]
        for state in (BulkRecipient.state1, BulkRecipient.state2):
            BulkRecipient.update({state: SLOT_NO_TICKET}).where(
                BulkRecipient.id.in_(chunk) & (state == SLOT_PENDING)).execute()
    states = (BulkRecipient.state1, BulkRecipient.state2)[message:]
    for state in states:
        BulkRecipient.update({state: SLOT_NO_TICKET}).where(
            (BulkRecipient.id == recipient_ids[index]) & (state == SLOT_PENDING)).execute()


def settle(send_id: int) -> None:
    BulkRecipient.update(settled=True).where(
        (BulkRecipient.bulk_send == send_id) & (BulkRecipient.settled == False)
        & (BulkRecipient.state1 != SLOT_PENDING) & (BulkRecipient.state2 != SLOT_PENDING)).execute()


# --- dispatch ---------------------------------------------------------------------------------------------------
def dispatch_batch(send_id: int, limit: int | None = None) -> int:
    """Move one batch of recipients into the outbox (set-based: sms.bulk.outbox_fill); returns how many
    recipients were settled."""
    limit = limit or setting("bulk.batch_size")
    with write_transaction():
        send = BulkSend.get_or_none((BulkSend.id == send_id) & (BulkSend.status == "running"))
        if send is None:
            return 0
        rows = claim(send_id, limit)
        if not rows:
            return 0
        outbox_fill.fill(send, rows, box_urls(send))
    return len(rows)


def claim(send_id: int, limit: int) -> list[outbox_fill.Claimed]:
    """The next unsettled recipients in order, locked for this batch (SKIP LOCKED: another worker's are passed by).

    Asked within a window of `limit` positions from the first unsettled one: "the first `limit` unsettled rows in
    order" alone leaves PostgreSQL's plan to its statistics, and while they count few unsettled rows (a table of
    finished sends) it reads and sorts every unsettled row of the send for each batch. The window keeps a batch's
    cost to its own rows; when another worker holds them, the next free rows are taken without it."""
    unsettled = (BulkRecipient.bulk_send == send_id) & (BulkRecipient.settled == False)
    first = BulkRecipient.select(fn.MIN(BulkRecipient.position)).where(unsettled).scalar()
    if first is None:
        return []
    rows = claimed_rows(unsettled & (BulkRecipient.position < first + limit), limit)
    return rows or claimed_rows(unsettled, limit)


def claimed_rows(where, limit: int) -> list[outbox_fill.Claimed]:
    query = (BulkRecipient.select(*outbox_fill.CLAIMED_COLUMNS).where(where)
             .order_by(BulkRecipient.position).limit(limit))
    # Plain tuples from the driver: the columns need no conversion, and peewee's conversion of a thousand rows,
    # value by value, cost more than the query.
    return [outbox_fill.Claimed._make(row) for row in database.execute(for_update_skip_locked(query)).fetchall()]


def box_urls(send: BulkSend) -> list[str]:
    """The storage box URL behind each message's {url} (read when sending: the box's current URL)."""
    urls = []
    for number in send.boxes:
        box = StorageBox.get_or_none(StorageBox.number == number) if number is not None else None
        urls.append(box.url if box else "")
    return urls


# --- finish -----------------------------------------------------------------------------------------------------
def finish_if_done(send_id: int) -> bool:
    """Complete a running send with nothing pending; give back tickets of paid slots that were not sent."""
    now = clock.now()
    with write_transaction():
        open_rows = BulkRecipient.select().where(
            (BulkRecipient.bulk_send == send_id) & (BulkRecipient.settled == False)).exists()
        if open_rows:
            return False
        done = BulkSend.update(status="completed", finished_at=now, updated_at=now).where(
            (BulkSend.id == send_id) & (BulkSend.status == "running")).execute()
        if not done:
            return False
        send = BulkSend.get_by_id(send_id)
        unused = send.tickets_used - queued_count(send_id) if send.tickets_used else 0
        if unused > 0:
            tickets.add(unused, reason=f"{send.label} 未送信分の返却（配信停止など）", actor="system")
            BulkSend.update(tickets_returned=unused).where(BulkSend.id == send_id).execute()
        events.announce(events.BULK_FINISHED, {"send_id": send.id, "label": send.label,
                                               "queued": queued_count(send_id), "at": f"{now:%Y-%m-%d %H:%M}"})
    audit.record("bulk.completed", send.label, {"tickets_returned": unused}, actor="system")
    return True


def queued_count(send_id: int) -> int:
    one = BulkRecipient.select().where((BulkRecipient.bulk_send == send_id) & (BulkRecipient.state1 == SLOT_QUEUED))
    two = BulkRecipient.select().where((BulkRecipient.bulk_send == send_id) & (BulkRecipient.state2 == SLOT_QUEUED))
    return one.count() + two.count()

