"""The dispatcher: claims due message rows, hands them to the provider, records what happened.

Every SMS is a row before anything is sent (sms.sending). A claim is committed before the provider is
called and records a SendAttempt without a provider id; if the process dies before the id is stored,
the row becomes claimable again after STALE_CLAIM and the next claimer first asks the provider what
was sent to that number since the claim (reconcile) — so a crash neither loses nor doubles a message.
On PostgreSQL several dispatchers may run: rows are claimed with FOR UPDATE SKIP LOCKED.

Work goes in chunks: a chunk is claimed in a few statements in one transaction, its provider calls run on a small
pool of threads (sms.sendpool: each with its own kept-alive connection, providers that allow it) paced by one shared
Pacer, and its outcomes are recorded in one transaction, a statement a table for the whole chunk. The pool sends one
chunk while this thread records the one before and claims the one after. Before a message's first send the
dispatcher learns its carrier (sms.carriers: cached per number, a lookup at most once per number and expiry); a
failed lookup leaves 不明 and the message is sent all the same.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from peewee import Case, fn

from core import clock
from core.channels import Channel, SendOutcome, open_channel
from core.config import setting
from core.db import database, for_update_skip_locked, is_postgres, lock_keys, write_transaction
from core.tally import tally
from sms import carriers
from sms.models import STATUS_SENDING, Message, OptOut, Receipt, SendAttempt
from sms.receipts import (
    SID_LOCKS,
    apply_status,
    record_receipt,
    replay_early_receipts,
    resend_policy,
    store_decision,
)
from sms.sending import REFUSAL_LOG_MESSAGES
from sms.sendpool import Pacer, SendPool
from sms.statuses import Decision, api_status, decide_due_resend, decide_send_error

log = logging.getLogger("sms.outbox")
# A claim older than this is taken to belong to a dead process. A live dispatcher sends a chunk right after claiming
# it (one chunk behind the pool), and stamps the claim again before sending if reconciling or lookups made it old.
STALE_CLAIM = dt.timedelta(minutes=2)
RECONCILE_SLACK = dt.timedelta(minutes=1)   # the provider's clock may differ a little from ours
RECONCILE_RETRY = dt.timedelta(seconds=30)  # provider unreachable while reconciling: ask again later
UNPACED_CHUNK = 50  # rows a claim takes without an MPS limit (with one: a second's worth)
# How long one run of the dispatch job goes on while full batches keep coming (a bulk send): beyond it, the job's
# next run continues, so the scheduler's other jobs and a lost lease are noticed in between.
DRAIN_SECONDS = 60
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DispatchReport(tally("sent", "reconciled", "retried", "failed", "gave_up", "receipts")):
    """What one dispatch run did."""

    @property
    def handled(self) -> int:
        return self.sent + self.reconciled + self.retried + self.failed + self.gave_up


@dataclass(frozen=True)
class Claimed:
    message: Message      # as claimed (the claim's own changes applied): nobody else writes it while it is ours
    attempt: SendAttempt
    reconcile: bool  # the attempt was claimed by a process that died: ask the provider first

    @property
    def message_id(self) -> int:
        return self.message.id

    @property
    def attempt_id(self) -> int:
        return self.attempt.id


@dataclass
class Sending:
    """A chunk handed to the pool: its (message, attempt) pairs and the wait for their outcomes."""
    ready: list[tuple[Message, SendAttempt]]
    outcomes: Callable[[], list]


# --- the job ------------------------------------------------------------------------------------------------
_pacers: dict[float, Pacer] = {}
_pacers_lock = threading.Lock()


def process_pacer(mps: float) -> Pacer:
    """The pacer of every run in this process at this MPS limit: one run's sends are spaced from the last sends of
    the run before it, which may have ended a moment ago (R-27 counts any 1-second window)."""
    with _pacers_lock:
        return _pacers.setdefault(mps, Pacer(mps))


def dispatch_due(budget_seconds: float = DRAIN_SECONDS) -> DispatchReport:
    """The dispatch job: run_dispatch, again as long as a run took a full batch (more is due, e.g. a bulk send)
    and `budget_seconds` have not passed, so that the outbox drains at the dispatcher's speed instead of one
    batch each sms.dispatch_interval_seconds. What all the runs did."""
    total = DispatchReport()
    ends = time.monotonic() + budget_seconds
    while True:
        report = run_dispatch()
        total.add(report)
        if report.handled < setting("sms.dispatch_batch") or time.monotonic() >= ends:
            return total


def run_dispatch(provider: Channel | None = None, pacer: Pacer | None = None, limit: int | None = None,
                 worker: str = WORKER) -> DispatchReport:
    """Send what is due (at most `limit`, default sms.dispatch_batch), then apply the provider's receipts.

    A pipeline of two chunks: while the pool sends one, this thread records the one before it and claims and
    prepares the one after, so the provider calls never wait for the database."""
    provider = provider or open_channel("sms")
    lookup = carriers.configured_lookup()
    limit = limit or setting("sms.dispatch_batch")
    mps = setting("sms.mps_limit")
    pacer = pacer or process_pacer(mps)
    chunk = max(1, min(limit, mps or UNPACED_CHUNK))  # small claims: rows are not held while earlier ones are paced
    report = DispatchReport()
    claims = 0
    with SendPool(provider, setting("sms.dispatch_concurrency")) as pool:
        sending: Sending | None = None
        while claims < limit:
            claimed = claim_due(min(chunk, limit - claims), worker)
            if not claimed:
                break
            claims += len(claimed)
            following = start_chunk(claimed, provider, pool, pacer, report, worker, lookup)
            if sending is not None:
                record_outcomes(sending.ready, sending.outcomes(), provider, report)
            sending = following
        if sending is not None:
            record_outcomes(sending.ready, sending.outcomes(), provider, report)
    report.receipts = collect_receipts(provider)
    return report


def claim_due(count: int, worker: str = WORKER) -> list[Claimed]:
    """Claim up to `count` due rows in one transaction (committed before anything is sent), a few statements
    for the whole chunk. The rows are ours while it runs: locked (PostgreSQL: FOR UPDATE SKIP LOCKED, so other
    dispatchers take other rows) or behind SQLite's single writer."""
    now = clock.now()
    with write_transaction():
        query = (_with_flags(Message.select(Message))
                 .where((Message.due_at <= now) & _unclaimed(now))
                 .order_by(Message.due_at, Message.id).limit(count))
        rows = list(for_update_skip_locked(query))
        if not rows:
            return []
        return _claim_rows(rows, now, worker)


def _with_flags(query):
    """The claim's query with what it must know of each row read along (no statement more for them): whether the
    number opted out, and whether the message has any attempt yet (most have none: they need no further look)."""
    return query.select_extend(
        Message.to_number.in_(OptOut.select(OptOut.number)).alias("opted_out"),
        fn.EXISTS(SendAttempt.select(SendAttempt.id).where(SendAttempt.message == Message.id)).alias("tried"))


def _unclaimed(now: dt.datetime):
    return Message.claimed_at.is_null() | (Message.claimed_at < now - STALE_CLAIM)


def _claim_rows(rows: list[Message], now: dt.datetime, worker: str) -> list[Claimed]:
    """Claim rows read with `_with_flags` (or plain rows: then the flags are asked here)."""
    if rows and not hasattr(rows[0], "tried"):
        flags = {m.id: m for m in _with_flags(Message.select(Message.id)).where(Message.id.in_([m.id for m in rows]))}
        for message in rows:
            message.opted_out, message.tried = flags[message.id].opted_out, flags[message.id].tried
    pending, last_seq = {}, {}  # message id → its attempt a dead process claimed; → its latest seq
    tried = [m.id for m in rows if m.tried]
    if tried:
        for attempt in SendAttempt.select().where(SendAttempt.message.in_(tried)).order_by(SendAttempt.seq):
            last_seq[attempt.message_id] = attempt.seq
            if attempt.outcome == "claimed":
                pending[attempt.message_id] = attempt
    fresh, resends = [], []
    for message in rows:
        if message.id not in pending and message.opted_out:
            _finish(message, Decision("failed", 3, None, REFUSAL_LOG_MESSAGES["opted_out"]))
        elif message.state == "resend_wait" and message.id not in pending:
            if decide_due_resend(now, resend_policy()) is not None:
                # the no-resend window: final at this moment, last error kept (000)
                _finish(message, Decision("failed", 3, message.error_code, message.error_message))
            else:
                resends.append(message)
        else:
            fresh.append(message)
    mine = _stamp_claims(fresh, resends, now, worker)
    new = [m.id for m in rows if m.id in mine and m.id not in pending]
    attempts = _new_attempts(new, last_seq, now, worker)
    claimed = []
    for message in rows:
        if message.id in pending and message.id in mine:
            claimed.append(Claimed(message, pending[message.id], reconcile=True))
        elif message.id in attempts:
            claimed.append(Claimed(message, attempts[message.id], reconcile=False))
    return claimed


def _stamp_claims(fresh: list[Message], resends: list[Message], now: dt.datetime, worker: str) -> set[int]:
    """Mark the rows ours; the ids it marked (all of them, unless another dispatcher took one meanwhile)."""
    stamp = {Message.claimed_at: now, Message.claimed_by: worker}
    taken = 0
    if fresh:
        taken += Message.update(stamp).where(Message.id.in_([m.id for m in fresh]) & _unclaimed(now)).execute()
    if resends:
        taken += Message.update({**stamp, Message.state: "queued", Message.resend_count: Message.resend_count + 1}
                                ).where(Message.id.in_([m.id for m in resends]) & _unclaimed(now)).execute()
    ids = [m.id for m in fresh + resends]
    if taken == len(ids):  # every row we read is ours (the usual case: they are locked): no need to read them back
        mine = set(ids)
    else:
        mine = {row[0] for row in Message.select(Message.id).where(
            Message.id.in_(ids) & (Message.claimed_by == worker) & (Message.claimed_at == now)).tuples()}
    for message in fresh + resends:  # the rows as just written
        if message.id in mine:
            message.claimed_at, message.claimed_by = now, worker
    for message in resends:
        if message.id in mine:
            message.state, message.resend_count = "queued", message.resend_count + 1
    return mine


def _new_attempts(ids: list[int], last_seq: dict[int, int], now: dt.datetime, worker: str) -> dict[int, SendAttempt]:
    """One claimed SendAttempt per message id, written together; message id → attempt."""
    if not ids:
        return {}
    rows = [{"message": i, "seq": last_seq.get(i, -1) + 1, "claimed_at": now, "claimed_by": worker} for i in ids]
    insert = SendAttempt.insert_many(rows)
    if database.returning_clause:  # PostgreSQL: the ids come back with the INSERT
        found = insert.returning(SendAttempt.id, SendAttempt.message).tuples().execute()
    else:
        insert.execute()
        found = SendAttempt.select(SendAttempt.id, SendAttempt.message).where(
            SendAttempt.message.in_(ids) & (SendAttempt.outcome == "claimed")
            & (SendAttempt.claimed_by == worker)).tuples()
    return {message_id: SendAttempt(id=attempt_id, message=message_id, seq=last_seq.get(message_id, -1) + 1,
                                    claimed_at=now, claimed_by=worker, outcome="claimed")
            for attempt_id, message_id in found}


def _finish(message: Message, decision: Decision) -> None:
    store_decision(message, decision)
    Message.update(claimed_at=None, claimed_by="", due_at=None).where(Message.id == message.id).execute()


# --- a chunk --------------------------------------------------------------------------------------------------
def send_chunk(claimed: list[Claimed], provider: Channel, pool: SendPool, pacer: Pacer, report: DispatchReport,
               worker: str = WORKER, lookup: carriers.CarrierLookup | None = None) -> None:
    """Reconcile, learn carriers, send (pooled, paced), record the outcomes in one go."""
    sending = start_chunk(claimed, provider, pool, pacer, report, worker, lookup)
    record_outcomes(sending.ready, sending.outcomes(), provider, report)


def start_chunk(claimed: list[Claimed], provider: Channel, pool: SendPool, pacer: Pacer, report: DispatchReport,
                worker: str = WORKER, lookup: carriers.CarrierLookup | None = None) -> Sending:
    """Reconcile, learn carriers, and hand the chunk to the pool (it is being sent when this returns)."""
    ready = _prepare(claimed, provider, report, worker)
    if not ready:
        return Sending([], list)
    _learn_carriers([message for message, _ in ready], lookup, pool)
    _restamp_old_claims(ready, worker)
    return Sending(ready, pool.start([(m.to_number, m.body, a.seq) for m, a in ready], pacer))


def _prepare(claimed: list[Claimed], provider: Channel, report: DispatchReport, worker: str):
    ready = []
    for item in claimed:
        attempt = item.attempt
        if item.reconcile:
            attempt = _reconcile(item.message, attempt, provider, report, worker)
            if attempt is None:
                continue
        ready.append((item.message, attempt))
    return ready


def _restamp_old_claims(ready, worker: str) -> None:
    """A claim must look alive until its send is recorded: one that reconciling or carrier lookups made old
    (a quarter of STALE_CLAIM) is stamped again; a row another dispatcher took over is left alone."""
    now = clock.now()
    old = [m.id for m, _ in ready if m.claimed_at is None or now - m.claimed_at > STALE_CLAIM / 4]
    if old:
        Message.update(claimed_at=now).where(Message.id.in_(old) & (Message.claimed_by == worker)).execute()
        for message, _ in ready:
            if message.id in old:
                message.claimed_at = now


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
    """What the provider answered for a chunk: the accepted ones in one transaction (their sids locked against
    receipts racing it, then a statement a table for all of them; on PostgreSQL the updates go in one round trip
    with the COMMIT when there is nothing more to do), then each error."""
    accepted = [(m, a, o) for (m, a), o in zip(ready, outcomes) if o.sid]
    if accepted:
        now = clock.now()
        with write_transaction():
            lock_keys(SID_LOCKS, [o.sid for _, _, o in accepted])  # a receipt racing us waits, or is seen below
            early = {row[0] for row in Receipt.select(Receipt.provider_sid).where(
                Receipt.provider_sid.in_([o.sid for _, _, o in accepted]) & Receipt.message.is_null()).tuples()}
            # Twilio answers "queued" (or "accepted"): the state a send just stored already says, nothing to apply.
            quiet = not early and all(api_status(o.status) == STATUS_SENDING for _, _, o in accepted)
            _store_sent_many(accepted, provider, now, last=quiet)
            if not quiet:
                for message, attempt, outcome in accepted:
                    apply_status(message, outcome.status, None)
                    if outcome.sid in early:
                        replay_early_receipts(attempt)
        report.sent += len(accepted)
    for (message, attempt), outcome in zip(ready, outcomes):
        if not outcome.sid:
            _record_send_error(message, attempt, outcome, report)


def _store_sent_many(accepted, provider: Channel, now: dt.datetime, last: bool = False) -> None:
    """The provider ids and first statuses of a chunk: one UPDATE of the attempts, one of the messages (on
    PostgreSQL sent together, with the transaction's COMMIT when they are its `last` statements)."""
    attempts = SendAttempt.update(
        outcome="sent", sent_at=now, provider_sid=_per_row(SendAttempt.id, [(a.id, o.sid) for _, a, o in accepted]),
        provider_status=_per_row(SendAttempt.id, [(a.id, o.status) for _, a, o in accepted])).where(
        SendAttempt.id.in_([a.id for _, a, _ in accepted]))
    sending = {"provider": provider.name, "sent_at": now, "due_at": None, "claimed_at": None, "claimed_by": "",
               "send_failures": 0, "state": "sending", "status": 1, "updated_at": now}
    messages = Message.update(provider_sid=_per_row(Message.id, [(m.id, o.sid) for m, _, o in accepted]),
                              carrier=_per_row(Message.id, [(m.id, m.carrier) for m, _, _ in accepted]),
                              **sending).where(Message.id.in_([m.id for m, _, _ in accepted]))
    if is_postgres():
        (first, first_params), (second, second_params) = attempts.sql(), messages.sql()
        sql, params = f"{first};{second}", [*first_params, *second_params]
        if not (last and database.obj.execute_and_commit(sql, params)):
            database.execute_sql(sql, params)
    else:
        attempts.execute()
        messages.execute()
    # The rows as just written (our claim keeps others off them): no need to read them back.
    for message, attempt, outcome in accepted:
        for name, value in sending.items():
            setattr(message, name, value)
        message.provider_sid = attempt.provider_sid = outcome.sid


def _per_row(key, pairs: list[tuple[int, object]]):
    """One value a row in a multi-row UPDATE: the value itself when every row gets the same one."""
    values = {value for _, value in pairs}
    if len(values) == 1:
        return next(iter(values))
    return Case(key, pairs)


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
        lock_keys(SID_LOCKS, [sid])
        _store_sent_many([(message, attempt, SendOutcome(sid, status))], provider, clock.now())
        apply_status(message, status, None)
        replay_early_receipts(attempt)


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
        query = _with_flags(Message.select(Message)).where((Message.id == message_id) & (Message.due_at <= now)
                                                           & Message.claimed_at.is_null())
        rows = list(for_update_skip_locked(query))
        claimed = _claim_rows(rows, now, WORKER) if rows else []
    provider = open_channel("sms")
    with SendPool(provider, 1) as pool:
        send_chunk(claimed, provider, pool, Pacer(0), DispatchReport(), WORKER, carriers.configured_lookup())
