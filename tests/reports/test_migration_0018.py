"""Migration 0018: the index the live view finds changed SMS by; a database of 0012 keeps its messages."""
import datetime as dt

import pytest

from core.db import database
from core.migrate import upgrade_schema
from tests.support.migrations import insert, schema_at


@pytest.mark.sqlite_only
def test_messages_of_0012_survive_and_are_found_by_when_they_changed(tmp_path):
    from reports.aggregate import days_with_sms_changed_since
    from sms.models import Message

    with schema_at(f"sqlite:///{tmp_path}/before-0018.db", "0012_reports_csv_lines_guarded"):
        # Raw SQL: the model has columns later migrations add (0014's carrier)
        insert("sms_message", created_at=dt.datetime(2026, 2, 2, 9), updated_at=dt.datetime(2026, 2, 5, 8),
               to_number="+819011112222", body="ご案内です", parts=1, status=2, state="delivered", error_message="",
               resend_count=0, provider="", source="api", clicks=0, created_by="", claimed_by="", send_failures=0)
        assert "0018_report_live_view_indexes" in upgrade_schema()
        assert "sms_message_updated_at" in {index.name for index in database.get_indexes("sms_message")}
        assert Message.select().count() == 1
        changed = days_with_sms_changed_since(dt.datetime(2026, 2, 4, 13), dt.date(2026, 2, 1), dt.date(2026, 2, 3))
        assert changed == [dt.date(2026, 2, 2)]
        assert upgrade_schema() == []  # run again: nothing to do
