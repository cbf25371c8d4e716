"""The dispatcher: claims due message rows, hands them to the provider, records what happened.

Every SMS is a row before anything is sent (sms.sending). A claim is committed before the provider is
called and records a SendAttempt without a provider id; if the process dies before the id is stored,
the row becomes claimable again after STALE_CLAIM and the next claimer first asks the provider what
was sent to that number since the claim (reconcile) — so a crash neither loses nor doubles a message.
On PostgreSQL several dispatchers may run: rows are claimed with FOR UPDATE SKIP LOCKED.

Before a message's first send the dispatcher learns its carrier (sms.carriers: cached per number, a lookup at
most once per number and expiry); a failed lookup leaves 不明 and the message is sent all the same.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, fields

from core import clock
from core.channels import Channel, open_channel
from core.config import setting
from core.db import database, for_update_skip_locked, write_transaction
from sms import carriers, links
from sms.models import Message, SendAttempt
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
    """Spaces sends evenly at just under `per_second` (0 = no limit); real monotonic time, it only throttles."""

    def __init__(self, per_second: float, monotonic=time.monotonic, sleep=time.sleep):
        self.interval = PACER_HEADROOM / per_second if per_second and per_second > 0 else 0.0
        self.monotonic, self.sleep = monotonic, sleep
        self.next_slot: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.monotonic()
        slot = now if self.next_slot is None else max(self.next_slot, now)
        if slot > now:
            self.sleep(slot - now)
        self.next_slot = slot + self.interval


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
    while claims < limit:
        claimed = claim_due(min(chunk, limit - claims), worker)
        if not claimed:
            break
        claims += len(claimed)
        for item in claimed:
            process(item, provider, pacer, report, worker, lookup)
    report.receipts = collect_receipts(provider)
    return report


def claim_due(count: int, worker: str = WORKER) -> list[Claimed]:
    """Claim up to `count` due rows in one transaction (committed before anything is sent)."""
    now = clock.now()
    with write_transaction():
        query = (Message.select()
                 .where((Message.due_at <= now)
                        & (Message.claimed_at.is_null() | (Message.claimed_at < now - STALE_CLAIM)))
                 .order_by(Message.due_at, Message.id).limit(count))
        rows = list(for_update_skip_locked(query))
        return [item for item in (_claim_one(m, now, worker) for m in rows) if item is not None]


def _claim_one(message: Message, now: dt.datetime, worker: str) -> Claimed | None:
    pending = (SendAttempt.select().where((SendAttempt.message == message.id) & (SendAttempt.outcome == "claimed"))
               .order_by(SendAttempt.seq.desc()).first())
    if pending is None and links.is_opted_out(message.to_number):
        _finish(message, Decision("failed", 3, None, REFUSAL_LOG_MESSAGES["opted_out"]))
        return None
    resend = message.state == "resend_wait" and pending is None
    if resend:
        give_up = decide_due_resend(now, resend_policy())
        if give_up is not None:  # the no-resend window: final at this moment, last error kept (000)
            _finish(message, Decision("failed", 3, message.error_code, message.error_message))
            return None
    changes = {Message.claimed_at: now, Message.claimed_by: worker}
    if resend:
        changes.update({Message.state: "queued", Message.resend_count: Message.resend_count + 1})
    unclaimed = Message.claimed_at.is_null() | (Message.claimed_at < now - STALE_CLAIM)
    if not Message.update(changes).where((Message.id == message.id) & unclaimed).execute():
        return None  # taken by another claimer meanwhile
    if pending is not None:
        return Claimed(message.id, pending.id, reconcile=True)
    attempt = SendAttempt.create(message=message.id, seq=_next_seq(message.id), claimed_at=now, claimed_by=worker)
    return Claimed(message.id, attempt.id, reconcile=False)


def _next_seq(message_id: int) -> int:
    last = SendAttempt.select().where(SendAttempt.message == message_id).order_by(SendAttempt.seq.desc()).first()
    return 0 if last is None else last.seq + 1


def _finish(message: Message, decision: Decision) -> None:
    store_decision(message, decision)
    Message.update(claimed_at=None, claimed_by="", due_at=None).where(Message.id == message.id).execute()


def _still_mine(message_id: int, worker: str) -> bool:
    """Re-stamp our claim just before the provider call; False if another dispatcher took the row over."""
    return Message.update(claimed_at=clock.now()).where(
        (Message.id == message_id) & (Message.claimed_by == worker)).execute() == 1


# --- one message ---------------------------------------------------------------------------------------------
def process(item: Claimed, provider: Channel, pacer: Pacer, report: DispatchReport,
            worker: str = WORKER, lookup: carriers.CarrierLookup | None = None) -> None:
    if not _still_mine(item.message_id, worker):
        return
    message = Message.get_by_id(item.message_id)
    attempt = SendAttempt.get_by_id(item.attempt_id)
    if item.reconcile:
        attempt = _reconcile(message, attempt, provider, report, worker)
        if attempt is None:
            return
    learn_carrier(message, lookup)
    pacer.wait()
    outcome = provider.send(message.to_number, message.body, attempt.seq)
    if outcome.sid:
        record_sent(message, attempt, outcome.sid, outcome.status, provider)
        report.sent += 1
    else:
        _record_send_error(message, attempt, outcome, report)


def learn_carrier(message: Message, lookup: carriers.CarrierLookup | None) -> None:
    """The dispatcher's carrier stage: once per message (resends keep it), never on a webhook's path."""
    if lookup is None or message.carrier:
        return
    try:
        carrier = carriers.carrier_for(message.to_number, lookup)
    except Exception:  # whatever goes wrong, the message still goes out (its carrier stays 不明)
        log.exception("carrier of message %s not learnt", message.id)
        carrier = carriers.UNKNOWN
    message.carrier = carrier  # stored with the send's outcome (record_sent, _record_send_error)


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
    now = clock.now()
    with database.atomic():
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
        replay_early_receipts(attempt)


def _record_send_error(message: Message, attempt: SendAttempt, outcome, report: DispatchReport) -> None:
    now = clock.now()
    decision = decide_send_error(outcome.http_status, outcome.error_code, message.send_failures, now)
    with database.atomic():
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
        claimed = [item for item in (_claim_one(m, now, WORKER) for m in rows) if item is not None]
    provider, lookup = open_channel("sms"), carriers.configured_lookup()
    for item in claimed:
        process(item, provider, Pacer(0), DispatchReport(), lookup=lookup)
