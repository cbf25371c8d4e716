"""A database from before the simulator had its own table (0011): its pending simulated receipts move across,
the production columns go, and the receipts still play back after the upgrade."""
import datetime as dt

import pytest

from core.db import database
from tests.support.migrations import insert, schema_at

SENT_AT = dt.datetime(2026, 1, 5, 9, 59, 58)


@pytest.mark.sqlite_only
def test_pending_simulated_receipts_survive_the_upgrade_and_play_back(tmp_path, app_config, clock):
    from sms.models import Message, SendAttempt
    from sms.outbox import run_dispatch
    from sms.simulator import SimulatedReceipt, SimulatorProvider
    from web import create_app

    url = f"sqlite:///{tmp_path}/before-0011.db"
    with schema_at(url, "0009_ivr_voicemail"):
        pending = sent_with_receipt("+819011110001", "SM" + "1" * 32, "delivered", None)
        failing = sent_with_receipt("+819011110003", "SM" + "3" * 32, "failed", 30003)
        played = sent_with_receipt("+819011110002", "SM" + "2" * 32, "", None)  # its receipt already applied
    database.obj.close()

    app = create_app({**app_config, "database.url": url})  # applies 0011 (and whatever else is pending)
    clock.set(SENT_AT + dt.timedelta(seconds=5))
    with app.app_context(), database.connection_context():
        columns = {column.name for column in database.get_columns("sms_attempt")}
        assert not {"sim_receipt_at", "sim_receipt_status", "sim_receipt_error"} & columns
        moved = sorted((r.provider_sid, r.status, r.error_code, r.due_at) for r in SimulatedReceipt.select())
        assert moved == [
            ("SM" + "1" * 32, "delivered", None, SENT_AT + dt.timedelta(seconds=3)),
            ("SM" + "3" * 32, "failed", 30003, SENT_AT + dt.timedelta(seconds=3))]

        assert run_dispatch(SimulatorProvider()).receipts == 2
        assert Message.get_by_id(pending).state == "delivered"
        assert Message.get_by_id(failing).state == "resend_wait"
        assert Message.get_by_id(played).state == "sending"
        assert SimulatedReceipt.select().count() == 0
        assert SendAttempt.select().count() == 3


def sent_with_receipt(to: str, sid: str, receipt: str, error_code: int | None) -> int:
    """A message the simulator sent at SENT_AT, its receipt planned in the old columns (none once played)."""

    # Raw SQL: the model has columns later migrations add (carrier, 0014) and no longer those 0003 made
    # (sim_receipt_status NOT NULL among them).
    message_id = insert("sms_message", created_at=SENT_AT, to_number=to, body="ご案内", parts=1, status=1,
                        state="sending", error_message="", resend_count=0, provider="simulator", provider_sid=sid,
                        source="ui", clicks=0, created_by="", claimed_by="", send_failures=0, sent_at=SENT_AT,
                        updated_at=SENT_AT)
    insert("sms_attempt", message_id=message_id, seq=0, claimed_at=SENT_AT, claimed_by="", outcome="sent",
           provider_sid=sid, provider_status="queued", sent_at=SENT_AT,
           sim_receipt_at=SENT_AT + dt.timedelta(seconds=3) if receipt else None, sim_receipt_status=receipt,
           sim_receipt_error=error_code)
    return message_id
