"""Applying delivery receipts (status callbacks, simulated receipts, the first status of a send) and the
status timeout (72 hours, SoftBank 1 hour). The decisions are in sms.statuses; this module reads and writes the rows.
"""
from __future__ import annotations

import datetime as dt

from core import clock, events
from core.config import setting
from core.db import lock_keys, write_transaction
from sms.models import Message, Receipt, SendAttempt
from sms.statuses import (
    TIMEOUT_DECISION,
    Decision,
    ResendPolicy,
    TimeoutPolicy,
    api_status,
    decide_receipt,
    timed_out,
)

NOTES = {
    "unknown_sid": "該当する送信がありません（送信記録の前に届いた可能性）",
    "stale": "以前の送信に対する通知のため反映しません",
    "ignored": "現在の状態を変えない通知です（重複・順序違い・確定後）",
}


def resend_policy() -> ResendPolicy:
    return ResendPolicy.from_settings(setting("sms.resend_count"), setting("sms.resend_interval_minutes"),
                                      setting("sms.no_resend_window"))


# lock_keys' namespace of provider sids: a receipt is matched to its send, or left for replay_early_receipts, never
# decided while the dispatcher is recording that sid (PostgreSQL: the receipt would miss both).
SID_LOCKS = 27


def record_receipt(sid: str, provider_status: str, error_code: int | None) -> Receipt:
    """Store a receipt as it came and apply it if it belongs to a known attempt."""
    with write_transaction():
        lock_keys(SID_LOCKS, [sid])
        receipt = Receipt.create(received_at=clock.now(), provider_sid=sid, provider_status=provider_status[:20],
                                 error_code=error_code)
        attempt = SendAttempt.get_or_none(SendAttempt.provider_sid == sid)
        if attempt is None:
            # Twilio may call back before our create() call has returned and been stored; kept and replayed
            # by replay_early_receipts once the sid is known.
            Receipt.update(note=NOTES["unknown_sid"]).where(Receipt.id == receipt.id).execute()
            return receipt
        _apply_to_attempt(receipt, attempt)
    return receipt


def replay_early_receipts(attempt: SendAttempt) -> None:
    """Apply receipts that arrived for this sid before the send was recorded, in arrival order."""
    early = (Receipt.select().where((Receipt.provider_sid == attempt.provider_sid) & Receipt.message.is_null())
             .order_by(Receipt.id))
    for receipt in early:
        _apply_to_attempt(receipt, attempt)


def _apply_to_attempt(receipt: Receipt, attempt: SendAttempt) -> None:
    if api_status(receipt.provider_status) is not None:
        SendAttempt.update(provider_status=receipt.provider_status, error_code=receipt.error_code).where(
            SendAttempt.id == attempt.id).execute()
    message = Message.get_by_id(attempt.message_id)
    note = ""
    applied = False
    if attempt.seq != latest_seq(message):
        note = NOTES["stale"]
    else:
        applied = apply_status(message, receipt.provider_status, receipt.error_code)
        note = "" if applied else NOTES["ignored"]
    Receipt.update(message=message.id, applied=applied, note=note).where(Receipt.id == receipt.id).execute()


def latest_seq(message: Message) -> int:
    last = SendAttempt.select().where(SendAttempt.message == message.id).order_by(SendAttempt.seq.desc()).first()
    return last.seq if last else -1


def apply_status(message: Message, provider_status: str, error_code: int | None) -> bool:
    """Move the message as the receipt decides; a final status never goes back. True when it changed."""
    for _ in range(3):  # optimistic: the update only lands if no one moved the message meanwhile
        now = clock.now()
        decision = decide_receipt(message.state, message.resend_count, provider_status, error_code, now,
                                  resend_policy())
        if decision is None or (decision.state == message.state and decision.status == message.status
                                and decision.error_code == message.error_code):
            return False
        if store_decision(message, decision):
            return True
        message = Message.get_by_id(message.id)
    return False


def store_decision(message: Message, decision: Decision) -> bool:
    """Write a decision if the message is still in the state it was judged in."""
    now = clock.now()
    changes = {
        Message.state: decision.state, Message.status: decision.status, Message.updated_at: now,
    }
    if decision.state in ("failed", "resend_wait"):
        changes[Message.error_code] = decision.error_code
        changes[Message.error_message] = decision.error_message
    elif decision.state == "delivered":
        changes[Message.error_code] = None
        changes[Message.error_message] = ""
    if decision.final:
        changes[Message.final_at] = now
        changes[Message.due_at] = None
    if decision.resend_at is not None:
        changes[Message.due_at] = decision.resend_at
    with write_transaction():
        updated = Message.update(changes).where(
            (Message.id == message.id) & (Message.state == message.state)).execute() == 1
        if updated and decision.state == "failed" and message.state != "failed":
            announce_failure(message, decision, now)
    return updated


def announce_failure(message: Message, decision: Decision, now: dt.datetime) -> None:
    """A message that will not arrive (final, after any resends). Each message of a bulk send is not announced
    alone: the send's end is (sms.bulk), so a failed campaign does not flood the destinations."""
    if message.bulk_send_id is not None:
        return
    events.announce(events.SMS_FAILED, {
        "message_id": message.id, "to_number": message.to_number, "box_number": message.box_number,
        "error_message": decision.error_message or "", "source": message.source, "call_sid": message.call_sid,
        "at": f"{now:%Y-%m-%d %H:%M}"})


def timeout_policy() -> TimeoutPolicy:
    return TimeoutPolicy(setting("sms.status_timeout_hours"), setting("sms.status_timeout_hours_softbank"))


def expire_stale(now=None) -> int:
    """Make messages with no final receipt final with status 0 after their carrier's timeout (R-29)."""
    now = now or clock.now()
    policy = timeout_policy()
    count = 0
    softbank_cutoff = now - dt.timedelta(hours=policy.hours_for("softbank"))
    other_cutoff = now - dt.timedelta(hours=policy.hours_for(None))
    due = (((Message.carrier == "softbank") & (Message.sent_at <= softbank_cutoff))
           | ((Message.carrier != "softbank") & (Message.sent_at <= other_cutoff)))
    candidates = Message.select().where((Message.state == "sending") & due)
    for message in candidates.iterator():
        hours = policy.hours_for(message.carrier)
        if timed_out(message.state, message.sent_at, now, hours) and store_decision(message, TIMEOUT_DECISION):
            count += 1
    return count
