"""R-52 for what sms keeps besides its messages: receipts that never matched a message, and the audit entries
that name a recipient's number, go 90 days after they were made (core.retention's daily purge)."""
import datetime as dt

from core.models import AuditLog
from core.retention import purge_expired
from sms.models import Message, Receipt

TODAY = dt.datetime(2026, 5, 1, 3, 30)
DAY_91 = dt.datetime(2026, 1, 30, 23, 59)
DAY_90 = dt.datetime(2026, 1, 31, 0, 0)


def test_receipts_that_matched_no_message_go_after_90_days(app, clock):
    recent = Message.create(created_at=TODAY, to_number="+819011112222", body="ご案内")
    unmatched_old = Receipt.create(received_at=DAY_91, provider_sid="SM" + "1" * 32, provider_status="sent")
    unmatched_kept = Receipt.create(received_at=DAY_90, provider_sid="SM" + "2" * 32, provider_status="sent")
    # A receipt goes with its message, not by its own age.
    matched = Receipt.create(received_at=DAY_91, provider_sid="SM" + "3" * 32, provider_status="sent",
                             message=recent)
    clock.set(TODAY)
    assert purge_expired()["sms.unmatched_receipts"] == 1
    assert {r.id for r in Receipt.select()} == {unmatched_kept.id, matched.id}
    assert unmatched_old.id not in {r.id for r in Receipt.select()}


def test_audit_entries_naming_a_recipient_go_after_90_days(app, clock):
    def entry(action, at, target="+819011112222"):
        return AuditLog.create(at=at, actor="manager1", action=action, target=target, detail="{}").id

    gone = [entry("optout.added", DAY_91), entry("optout.removed", DAY_91), entry("box.test_sent", DAY_91)]
    kept = [entry("optout.added", DAY_90), entry("box.updated", DAY_91, target="蓄積BOX 1"),
            entry("login", DAY_91, target="manager1")]
    clock.set(TODAY)
    assert purge_expired()["sms.audit"] == len(gone)
    assert sorted(row.id for row in AuditLog.select()) == sorted(kept)


def test_unmatched_receipts_are_found_by_their_age_through_an_index(db):
    """Migration 0023: the purge's "older than" filter on unmatched receipts has an index (partial: only those
    with no message), so it never reads every receipt of every message."""
    indexes = {index.name: index for index in db.get_indexes("sms_receipt")}
    assert indexes["sms_receipt_unmatched_received_at"].columns == ["received_at"]
    assert "message_id" in indexes["sms_receipt_unmatched_received_at"].sql.lower().split("where", 1)[1]
