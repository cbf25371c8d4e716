"""0016: a database of bulk sends made before 差し込み is upgraded with its sends and recipients kept."""
import pytest

from core.db import database
from core.migrate import upgrade_schema
from tests.support.migrations import schema_at


@pytest.mark.sqlite_only
def test_bulk_sends_of_0012_survive_the_upgrade_to_merge_fields(tmp_path):
    from sms.bulk.models import BulkRecipient, BulkSend

    with schema_at(f"sqlite:///{tmp_path}/before-0016.db", "0012_reports_csv_lines_guarded"):
        database.execute_sql("INSERT INTO bulk_send (id, title, status, immediate, message1, source, source_detail, via,"
                             " recipient_count, slot_count, duplicate_count, invalid_count, optout_count, broken_count,"
                             " tickets_used, tickets_returned, created_by, confirmed_by, cancelled_by, created_at,"
                             " updated_at) VALUES (1, '', 'draft', 1, 'お知らせ', 'paste', '', 'ui', 1, 1, 0, 0, 0, 0,"
                             " 0, 0, 'tester', '', '', '2026-01-05 10:00:00', '2026-01-05 10:00:00')")
        database.execute_sql("INSERT INTO bulk_recipient (bulk_send_id, position, to_number, raw, state1, state2,"
                             " settled) VALUES (1, 0, '+819012345678', '090-1234-5678', 'pending', 'none', 0)")
        assert "0016_bulk_fields" in upgrade_schema()
        send = BulkSend.get_by_id(1)
        assert (send.messages, send.merge_fields) == (["お知らせ"], [])
        recipient = BulkRecipient.get()
        assert (recipient.to_number, recipient.field_values, recipient.problem) == ("+819012345678", [], "")
