"""What sms keeps past a send, and how it goes at the daily retention purge (R-52, core.retention)."""
from __future__ import annotations

from flask import Flask

from core import audit
from core.models import AuditLog
from core.retention import Expiry, delete_rows, register_retention
from sms.models import CarrierCache, Message, Receipt, SendAttempt, ShortLink

# Audit actions whose entries name a recipient's number.
NUMBER_AUDIT_ACTIONS = ("optout.added", "optout.removed", "box.test_sent", "sms.individual_sent")


def purge_messages(expiry: Expiry) -> int:
    """Messages by the day they were queued, with their attempts, receipts and short links."""
    return delete_rows(Message, Message.created_at < expiry.before, expiry,
                       children=(SendAttempt.message, Receipt.message, ShortLink.message))


def purge_unmatched_receipts(expiry: Expiry) -> int:
    """Receipts that never matched a message (a send not recorded, another system's message)."""
    return delete_rows(Receipt, Receipt.message.is_null() & (Receipt.received_at < expiry.before), expiry)


def purge_carrier_cache(expiry: Expiry) -> int:
    """Numbers whose carrier was looked up before the retention period (asked again if they are sent to)."""
    return delete_rows(CarrierCache, CarrierCache.looked_up_at < expiry.before, expiry)


def register(app: Flask) -> None:
    register_retention(app, "sms.messages", purge_messages, covers=(Message, SendAttempt, Receipt, ShortLink))
    register_retention(app, "sms.unmatched_receipts", purge_unmatched_receipts, covers=(Receipt,))
    register_retention(app, "sms.carrier_cache", purge_carrier_cache, covers=(CarrierCache,))
    register_retention(app, "sms.audit", audit.expired_entries(*NUMBER_AUDIT_ACTIONS),
                       covers=(AuditLog.target, AuditLog.detail))
