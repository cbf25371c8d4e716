"""What bulk sends keep and how it goes at the daily retention purge (R-52, core.retention): a send with its
recipient and skip lists once it is over, and the CSV files uploaded while choosing recipients."""
from __future__ import annotations

import datetime as dt

from flask import Flask
from peewee import fn

from core import audit, clock
from core.config import setting
from core.models import AuditLog
from core.retention import Expiry, delete_rows, register_retention
from sms.bulk import uploads
from sms.bulk.models import NUMBER_AUDIT_ACTIONS, BulkRecipient, BulkSend, BulkSkipped


def expired_sends(before: dt.datetime):
    """Sends over (finished, cancelled, a draft left alone) before `before`; scheduled, running ones stay."""
    last_touched = fn.COALESCE(BulkSend.finished_at, BulkSend.cancelled_at, BulkSend.updated_at)
    return BulkSend.status.not_in(("scheduled", "running")) & (last_touched < before)


def purge_sends(expiry: Expiry) -> int:
    """Returns the sends deleted. Their lists go first, in batches of their own (100,000 rows in a send)."""
    expired = expired_sends(expiry.before)
    ids = BulkSend.select(BulkSend.id).where(expired)
    delete_rows(BulkRecipient, BulkRecipient.bulk_send.in_(ids), expiry)
    delete_rows(BulkSkipped, BulkSkipped.bulk_send.in_(ids), expiry)
    return delete_rows(BulkSend, expired, expiry)


def purge_uploads(expiry: Expiry) -> int:
    """An upload only waits for its column to be chosen: it goes with unconfirmed drafts (bulk.draft_days),
    and in any case within the retention period."""
    unconfirmed = clock.now() - dt.timedelta(days=setting("bulk.draft_days"))
    return uploads.purge(max(expiry.before, unconfirmed))


def register(app: Flask) -> None:
    register_retention(app, "sms.bulk.sends", purge_sends, covers=(BulkSend, BulkRecipient, BulkSkipped))
    register_retention(app, "sms.bulk.uploads", purge_uploads)
    # 「自分にテスト送信」 entries name the user's own number
    register_retention(app, "sms.bulk.audit", audit.expired_entries(*NUMBER_AUDIT_ACTIONS),
                       covers=(AuditLog.target, AuditLog.detail))
