"""A database from before notifications (0016 and earlier) gets their tables at the upgrade, its rows untouched."""
import pytest

from core.db import database
from core.migrate import MIGRATIONS_DIR, upgrade_schema
from tests.support.migrations import schema_at


@pytest.mark.sqlite_only
def test_the_upgrade_adds_the_notification_tables(tmp_path):
    from core.models import User
    from notify.models import Delivery, Destination, Event

    before = sorted(p.stem for p in MIGRATIONS_DIR.glob("0*.py") if p.stem < "0017")[-1]
    with schema_at(f"sqlite:///{tmp_path}/before-0017.db", before):
        assert "notify_destination" not in database.get_tables()
        assert "ivr_call_recording" not in database.get_tables()
        User.create(username="kept", password_hash="x")
        assert "0017_notify_and_call_recordings" in upgrade_schema()
        destination = Destination.create(name="Slack", kind="slack", target="https://example.jp/", events="sms.failed")
        event = Event.create(kind="sms.failed")
        Delivery.create(event=event, destination=destination)
        assert User.get().username == "kept" and Delivery.get().state == "pending"
        assert "ivr_call_recording" in database.get_tables()
