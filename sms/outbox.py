"""The dispatcher: claims due message rows, hands them to the provider, records what happened.

Every SMS is a row before anything is sent (sms.sending). A claim is committed before the provider is
called and records a SendAttempt without a provider id; if the process dies before the id is stored,
the row becomes claimable again after STALE_CLAIM and the next claimer first asks the provider what
was sent to that number since the claim (reconcile) — so a crash neither loses nor doubles a message.
On PostgreSQL several dispatchers may run: rows are claimed with FOR UPDATE SKIP LOCKED.

Work goes in chunks: a chunk is claimed in one transaction, its provider calls run on a small pool of threads (each
with its own kept-alive connection, providers that allow it) paced by one shared Pacer, and its outcomes are
recorded in one transaction. Before a message's first send the dispatcher learns its carrier (sms.carriers: cached per number, a lookup at
most once per number and expiry); a failed lookup leaves 不明 and the message is sent all the same.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

from peewee import fn

from core import clock
from core.channels import Channel, open_channel
from core.config import setting
from core.db import database, for_update_skip_locked, write_transaction
from sms import carriers
from sms.models import Message, OptOut, Receipt, SendAttempt
from sms.receipts import apply_status, record_receipt, replay_early_receipts, resend_policy, store_decision
from sms.sending import REFUSAL_LOG_MESSAGES
from sms.statuses import Decision, decide_due_resend, decide_send_error

log = logging.getLogger("sms.outbox")
# A claim older than this is taken to belong to a dead process. Each send re-stamps its claim first,
# so a live dispatcher's claim is never older than one provider call (HTTP timeout 15 s).
STALE_CLAIM = dt.timedelta(minutes=2)
RECONCILE_SLACK = dt.timedelta(minutes=1)   # the provider's clock may differ a little from ours
RECONCILE_RETRY = dt.timedelta(seconds=30)  # provider unreachable while reconciling: ask again later
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class DispatchReport:
    sent: int = 0
    reconciled: int = 0
    retried: int = 0
    failed: int = 0
    gave_up: int = 0
    receipts: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.reconciled + self.retried + self.failed + self.gave_up

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


@dataclass(frozen=True)
class Claimed:
    message_id: int
    attempt_id: int
    reconcile: bool  # the attempt was claimed by a process that died: ask the provider first


# Sends leave 1% further apart than the limit: requests reach Twilio with a few ms of network jitter, and
# exactly 1/MPS apart an 11th send could land inside the same second as the first ten.
PACER_HEADROOM = 1.01


class Pacer:
    """Spaces sends evenly at just under `per_second` (0 = no limit); real monotonic time, it only throttles.

    Thread-safe: each caller reserves the next slot (`wait` returns its ticket) and sleeps until it. A send also
    waits until the send `per_second` tickets before it has been answered (`done`) for a second: that send reached
    the provider before its answer came back, so however long a request takes on its way, no 1-second window at
    the provider ever holds more than `per_second` sends (R-27)."""

    WINDOW = 1.0

    def __init__(self, per_second: float, monotonic=time.monotonic, sleep=time.sleep):
        self.interval = PACER_HEADROOM / per_second if per_second and per_second > 0 else 0.0
        self.monotonic, self.sleep = monotonic, sleep
        self.next_slot: float | None = None
        self.span = max(1, int(per_second or 0))
        self.issued = 0
        self.answered: dict[int, float] = {}  # ticket → when its send was answered (the last `span` or so)
        self.changed = threading.Condition()

    def wait(self) -> int:
        """Block until the next send may go; returns its ticket for `done` (-1 when there is no limit)."""
        if not self.interval:
            return -1
        with self.changed:
            now = self.monotonic()
            slot = now if self.next_slot is None else max(self.next_slot, now)
            self.next_slot = slot + self.interval
            ticket, self.issued = self.issued, self.issued + 1
        if slot > now:
            self.sleep(slot - now)
        if ticket >= self.span:
            with self.changed:
                while (self.span and ticket - self.span not in self.answered):
                    self.changed.wait(timeout=1.0)
                behind = self.answered[ticket - self.span] + self.WINDOW - self.monotonic()
            if behind > 0:
                self.sleep(behind)
        return ticket

    def done(self, ticket: int) -> None:
        """The send of `ticket` has been answered (or failed): later sends may count from now."""
        if ticket < 0:
            return
        with self.changed:
            self.answered[ticket] = self.monotonic()
            for old in [t for t in self.answered if t < ticket - 4 * self.span]:
                del self.answered[old]
            self.changed.notify_all()


class SendPool:
    """The provider calls of a chunk: in order on this thread, or on `size` threads when the provider allows
    concurrent sends (each thread its own provider copy: its own kept-alive connection)."""

    def __init__(self, provider: Channel, size: int):
        self.provider = provider
        concurrent = size > 1 and getattr(provider, "concurrent_sends", False)
        self.size = size if concurrent else 1
        self.executor = ThreadPoolExecutor(self.size, thread_name_prefix="sms-send") if concurrent else None
        self.senders: queue.SimpleQueue = queue.SimpleQueue()
        if concurrent:
            for _ in range(self.size):
                self.senders.put(provider.copy())

    def __enter__(self) -> SendPool:
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    def send_all(self, items: list[tuple[str, str, int]], pacer: Pacer) -> list:
        """One SendOutcome per (to, body, attempt_seq), in the same order."""
        if self.executor is None:
            return [self._send(self.provider, item, pacer) for item in items]
        return list(self.executor.map(lambda item: self._pooled(item, pacer), items))

    def run_all(self, fn, items: list) -> list:
        """fn(item) for each item, on the pool's threads when there are several (fn must not use the database)."""
        if self.executor is None:
            return [fn(item) for item in items]
        return list(self.executor.map(fn, items))

    def _pooled(self, item, pacer: Pacer):
        sender = self.senders.get()
        try:
            return self._send(sender, item, pacer)
        finally:
            self.senders.put(sender)

    @staticmethod
    def _send(sender: Channel, item, pacer: Pacer):
        to, body, seq = item
        ticket = pacer.wait()
        try:
            return sender.send(to, body, seq)
        finally:
            pacer.done(ticket)


# --- the job ------------------------------------------------------------------------------------------------
def run_dispatch(provider: Channel | None = None, pacer: Pacer | None = None, limit: int | None = None,
                 worker: str = WORKER) -> DispatchReport:
    """Send what is due (at most `limit`, default sms.dispatch_batch), then apply the provider's receipts."""
    provider = provider or open_channel("sms")
    lookup = carriers.configured_lookup()
    limit = limit or setting("sms.dispatch_batch")
    mps = setting("sms.mps_limit")
    pacer = pacer or Pacer(mps)
    chunk = max(1, min(limit, mps or 50))  # small claims: rows are not held while earlier ones are paced
    report = DispatchReport()
    claims = 0
    with SendPool(provider, setting("sms.dispatch_concurrency")) as pool:
        while claims < limit:
            claimed = claim_due(min(chunk, limit - claims), worker)
            if not claimed:
                break
            claims += len(claimed)
            send_chunk(claimed, provider, pool, pacer, report, worker, lookup)
    report.receipts = collect_receipts(provider)
    return report


def claim_due(count: int, worker: str = WORKER) -> list[Claimed]:
    """Claim up to `count` due rows in one transaction (committed before anything is sent), a few statements
    for the whole chunk. The rows are ours while it runs: locked (PostgreSQL: FOR UPDATE SKIP LOCKED, so other
    dispatchers take other rows) or behind SQLite's single writer."""
    now = clock.now()
    with write_transaction():
        query = (Message.select()
                 .where((Message.due_at <= now) & _unclaimed(now))
                 .order_by(Message.due_at, Message.id).limit(count))
        rows = list(for_update_skip_locked(query))
        if not rows:
            return []
        return _claim_rows(rows, now, worker)


def _unclaimed(now: dt.datetime):
    return Message.claimed_at.is_null() | (Message.claimed_at < now - STALE_CLAIM)


def _claim_rows(rows: list[Message], now: dt.datetime, worker: str) -> list[Claimed]:
    ids = [m.id for m in rows]
    pending = {a.message_id: a for a in SendAttempt.select().where(
        SendAttempt.message.in_(ids) & (SendAttempt.outcome == "claimed")).order_by(SendAttempt.seq)}
    opted_out = {o.number for o in OptOut.select(OptOut.number).where(
        OptOut.number.in_({m.to_number for m in rows}))}
    fresh, resends = [], []
    for message in rows:
        if message.id not in pending and message.to_number in opted_out:
            _finish(message, Decision("failed", 3, None, REFUSAL_LOG_MESSAGES["opted_out"]))
        elif message.state == "resend_wait" and message.id not in pending:
            if decide_due_resend(now, resend_policy()) is not None:
                # the no-resend window: final at this moment, last error kept (000)
                _finish(message, Decision("failed", 3, message.error_code, message.error_message))
            else:
                resends.append(message.id)
        else:
            fresh.append(message.id)
    stamp = {Message.claimed_at: now, Message.claimed_by: worker}
    if fresh:
        Message.update(stamp).where(Message.id.in_(fresh) & _unclaimed(now)).execute()
    if resends:
        Message.update({**stamp, Message.state: "queued", Message.resend_count: Message.resend_count + 1}).where(
            Message.id.in_(resends) & _unclaimed(now)).execute()
    mine = {row[0] for row in Message.select(Message.id).where(
        Message.id.in_(fresh + resends) & (Message.claimed_by == worker) & (Message.claimed_at == now)).tuples()}
    new = [i for i in ids if i in mine and i not in pending]
    if new:
        seqs = dict(SendAttempt.select(SendAttempt.message, fn.MAX(SendAttempt.seq)).where(
            SendAttempt.message.in_(new)).group_by(SendAttempt.message).tuples())
        SendAttempt.insert_many([{"message": i, "seq": seqs.get(i, -1) + 1, "claimed_at": now, "claimed_by": worker}
                                 for i in new]).execute()
    attempts = {a.message_id: a.id for a in SendAttempt.select(SendAttempt.id, SendAttempt.message).where(
        SendAttempt.message.in_(new) & (SendAttempt.outcome == "claimed") & (SendAttempt.claimed_by == worker))}
    claimed = []
    for i in ids:
        if i in pending and i in mine:
            claimed.append(Claimed(i, pending[i].id, reconcile=True))
        elif i in attempts:
            claimed.append(Claimed(i, attempts[i], reconcile=False))
    return claimed


def _finish(message: Message, decision: Decision) -> None:
    store_decision(message, decision)
    Message.update(claimed_at=None, claimed_by="", due_at=None).where(Message.id == message.id).execute()


# --- a chunk --------------------------------------------------------------------------------------------------
def send_chunk(claimed: list[Claimed], provider: Channel, pool: SendPool, pacer: Pacer, report: DispatchReport,
               worker: str = WORKER, lookup: carriers.CarrierLookup | None = None) -> None:
    """Re-stamp the claims, reconcile, learn carriers, send (pooled, paced), record the outcomes in one go."""
    ready = _prepare(claimed, provider, report, worker)
    if not ready:
        return
    _learn_carriers([message for message, _ in ready], lookup, pool)
    outcomes = pool.send_all([(m.to_number, m.body, a.seq) for m, a in ready], pacer)
    record_outcomes(ready, outcomes, provider, report)


def _prepare(claimed: list[Claimed], provider: Channel, report: DispatchReport, worker: str):
    ids = [item.message_id for item in claimed]
    # Re-stamp the claims just before the provider calls; a row another dispatcher took over is left alone.
    Message.update(claimed_at=clock.now()).where(Message.id.in_(ids) & (Message.claimed_by == worker)).execute()
    messages = {m.id: m for m in Message.select().where(Message.id.in_(ids) & (Message.claimed_by == worker))}
    attempts = {a.id: a for a in SendAttempt.select().where(
        SendAttempt.id.in_([item.attempt_id for item in claimed]))}
    ready = []
    for item in claimed:
        message, attempt = messages.get(item.message_id), attempts.get(item.attempt_id)
        if message is None or attempt is None:
            continue
        if item.reconcile:
            attempt = _reconcile(message, attempt, provider, report, worker)
            if attempt is None:
                continue
        ready.append((message, attempt))
    return ready


def _learn_carriers(messages: list[Message], lookup: carriers.CarrierLookup | None, pool: SendPool) -> None:
    """The carrier stage for a chunk (once per message: resends keep theirs; never on a webhook's path): one cache
    read for all, the numbers not in it asked on the pool's threads, the answers cached together."""
    todo = [m for m in messages if not m.carrier]
    if lookup is None or not todo:
        return
    try:
        found = carriers.carriers_for([m.to_number for m in todo], lookup, pool.run_all)
    except Exception:  # whatever goes wrong, the messages still go out (their carrier stays 不明)
        log.exception("carriers of %d messages not learnt", len(todo))
        found = {}
    for message in todo:
        message.carrier = found.get(message.to_number, carriers.UNKNOWN)  # stored with the send's outcome


def record_outcomes(ready, outcomes, provider: Channel, report: DispatchReport) -> None:
    """What the provider answered for a chunk: the accepted ones in one transaction, then each error."""
    accepted = [(m, a, o) for (m, a), o in zip(ready, outcomes) if o.sid]
    if accepted:
        now = clock.now()
        with write_transaction():
            for message, attempt, outcome in accepted:
                _store_sent(message, attempt, outcome.sid, outcome.status, provider, now)
            early = {row[0] for row in Receipt.select(Receipt.provider_sid).where(
                Receipt.provider_sid.in_([o.sid for _, _, o in accepted]) & Receipt.message.is_null()).tuples()}
            for message, attempt, outcome in accepted:
                if outcome.sid in early:
                    replay_early_receipts(attempt)
        report.sent += len(accepted)
    for (message, attempt), outcome in zip(ready, outcomes):
        if not outcome.sid:
            _record_send_error(message, attempt, outcome, report)


# --- one message ---------------------------------------------------------------------------------------------
def _reconcile(message: Message, attempt: SendAttempt, provider: Channel, report: DispatchReport,
               worker: str):
    """A dead process claimed this attempt: adopt what the provider sent since then, or send afresh."""
    try:
        candidates = provider.find_sent(message.to_number, message.body, attempt.claimed_at - RECONCILE_SLACK)
        # Another message with the same text to the same number (or an earlier try of this one) is not ours.
        known = {a.provider_sid for a in SendAttempt.select(SendAttempt.provider_sid).where(
            SendAttempt.provider_sid.in_([r.sid for r in candidates]))} if candidates else set()
        found = [r for r in candidates if r.sid not in known]
    except Exception:
        log.exception("could not reconcile message %s; will ask the provider again", message.id)
        Message.update(claimed_at=None, claimed_by="", due_at=clock.now() + RECONCILE_RETRY).where(
            Message.id == message.id).execute()
        report.retried += 1
        return None
    if found:
        earliest = found[-1]  # the provider lists newest first
        record_sent(message, attempt, earliest.sid, earliest.status, provider)
        report.reconciled += 1
        log.info("message %s: adopted %s sent before a crash", message.id, earliest.sid)
        return None
    now = clock.now()
    SendAttempt.update(outcome="lost", finished_at=now).where(SendAttempt.id == attempt.id).execute()
    return SendAttempt.create(message=message.id, seq=attempt.seq + 1, claimed_at=now, claimed_by=worker)


def record_sent(message: Message, attempt: SendAttempt, sid: str, status: str, provider: Channel) -> None:
    """Store the provider id and the first status from the API response (no callback comes for it)."""
    with write_transaction():
        _store_sent(message, attempt, sid, status, provider, clock.now())
        replay_early_receipts(attempt)


def _store_sent(message: Message, attempt: SendAttempt, sid: str, status: str, provider: Channel,
                now: dt.datetime) -> None:
    SendAttempt.update(provider_sid=sid, outcome="sent", provider_status=status, sent_at=now).where(
        SendAttempt.id == attempt.id).execute()
    sending = dict(provider=provider.name, provider_sid=sid, sent_at=now, due_at=None, claimed_at=None,
                   claimed_by="", send_failures=0, state="sending", status=1, updated_at=now,
                   carrier=message.carrier)
    Message.update(**sending).where(Message.id == message.id).execute()
    # The rows as just written (our claim keeps others off them): no need to read them back.
    for name, value in sending.items():
        setattr(message, name, value)
    attempt.provider_sid = sid
    apply_status(message, status, None)


def _record_send_error(message: Message, attempt: SendAttempt, outcome, report: DispatchReport) -> None:
    now = clock.now()
    decision = decide_send_error(outcome.http_status, outcome.error_code, message.send_failures, now)
    with write_transaction():
        SendAttempt.update(outcome="error", error_code=outcome.error_code, finished_at=now).where(
            SendAttempt.id == attempt.id).execute()
        if decision.retry_at is not None:
            Message.update(due_at=decision.retry_at, send_failures=Message.send_failures + 1, claimed_at=None,
                           claimed_by="", updated_at=now, carrier=message.carrier).where(
                Message.id == message.id).execute()
            report.retried += 1
            return
        Message.update(carrier=message.carrier).where(Message.id == message.id).execute()
        _finish(Message.get_by_id(message.id),
                Decision("failed", 3, decision.error_code, decision.error_message))
        report.failed += 1
    log.warning("message %s to %s failed: %s %s %s", message.id, message.to_number, outcome.http_status,
                outcome.error_code, outcome.detail)


def collect_receipts(provider: Channel) -> int:
    """Apply the receipts the provider holds (the simulator's planned ones) as Twilio's callbacks are."""
    due = provider.due_receipts(clock.now())
    for receipt in due:
        record_receipt(receipt.sid, receipt.status, receipt.error_code)
    return len(due)


def dispatch_now(message_id: int) -> None:
    """Send one queued message at once (a staff test send), through the same claim as the job."""
    now = clock.now()
    with write_transaction():
        query = Message.select().where((Message.id == message_id) & (Message.due_at <= now)
                                       & Message.claimed_at.is_null())
        rows = list(for_update_skip_locked(query))
        claimed = _claim_rows(rows, now, WORKER) if rows else []
    provider = open_channel("sms")
    with SendPool(provider, 1) as pool:
        send_chunk(claimed, provider, pool, Pacer(0), DispatchReport(), WORKER, carriers.configured_lookup())
