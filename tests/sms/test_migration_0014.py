"""Upgrading a database from before carriers and the billing close (0014): its messages are kept, read as carrier
不明 and keep the 72-hour timeout; the carrier cache and billing tables exist and work at once."""
import datetime as dt

import pytest

from core.db import database
from tests.support.migrations import insert, schema_at

SENT_AT = dt.datetime(2026, 1, 5, 9, 0)


@pytest.mark.sqlite_only
def test_messages_survive_and_read_as_unknown_carrier(tmp_path, app_config, clock):
    from sms.billing import close_month, monthly_counts
    from sms.carriers import carrier_for
    from sms.models import CarrierCache, Message
    from sms.receipts import expire_stale
    from sms.simulator import SimulatorLookup
    from web import create_app

    url = f"sqlite:///{tmp_path}/before-0014.db"
    with schema_at(url, "0012_reports_csv_lines_guarded"):
        insert("sms_message", created_at=SENT_AT, to_number="+819012345674", body="以前の SMS", parts=1, status=1,
               state="sending", error_message="", resend_count=0, provider="twilio", provider_sid="SM1", source="api",
               clicks=0, created_by="", claimed_by="", send_failures=0, sent_at=SENT_AT, updated_at=SENT_AT)
    database.obj.close()

    app = create_app({**app_config, "database.url": url})  # applies 0014
    with app.app_context(), database.connection_context():
        message = Message.get()
        assert (message.body, message.carrier, message.state) == ("以前の SMS", "", "sending")
        clock.set(SENT_AT + dt.timedelta(hours=2))
        assert expire_stale() == 0  # a SoftBank number, but never looked up: the 72-hour rule stands
        clock.set(SENT_AT + dt.timedelta(hours=72))
        assert expire_stale() == 1
        assert carrier_for("+819012345674", SimulatorLookup()) == "softbank"
        assert CarrierCache.select().count() == 1
        assert close_month(dt.date(2026, 1, 1)) and monthly_counts(dt.date(2026, 1, 1)).fixed
