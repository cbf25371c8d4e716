"""Migration 0018: the index the live view finds changed SMS by; a database of 0012 keeps its messages."""
import datetime as dt

import pytest
from playhouse.migrations import Runner

from core.db import bind_database, database
from core.migrate import MIGRATIONS_DIR, upgrade_schema


@pytest.mark.sqlite_only
def test_messages_of_0012_survive_and_are_found_by_when_they_changed(tmp_path):
    from reports.aggregate import days_with_sms_changed_since
    from sms.models import Message

    bind_database(f"sqlite:///{tmp_path}/before-0018.db")
    with database.connection_context():
        Runner(database.obj, directory=str(MIGRATIONS_DIR)).up(target="0012_reports_csv_lines_guarded")
        # Raw SQL: the model has columns later migrations add (0014's carrier)
        database.execute_sql(
            "INSERT INTO sms_message (created_at, updated_at, to_number, body, parts, status, state, error_message, "
            "resend_count, provider, source, clicks, created_by, claimed_by, send_failures) "
            "VALUES ('2026-02-02 09:00:00', '2026-02-05 08:00:00', '+819011112222', 'ご案内です', 1, 2, "
            "'delivered', '', 0, '', 'api', 0, '', '', 0)")
        assert "0018_report_live_view_indexes" in upgrade_schema()
        assert "sms_message_updated_at" in {index.name for index in database.get_indexes("sms_message")}
        assert Message.select().count() == 1
        changed = days_with_sms_changed_since(dt.datetime(2026, 2, 4, 13), dt.date(2026, 2, 1), dt.date(2026, 2, 3))
        assert changed == [dt.date(2026, 2, 2)]
        assert upgrade_schema() == []  # run again: nothing to do
