"""Migration 0021: the outbox keeps only the indexes something searches by; a database of 0020 keeps its messages,
and the messages of a call are still found through an index (now partial: only SMS sent during a call have one)."""
import pytest
from playhouse.migrations import Runner

from core.db import bind_database, database, is_sqlite
from core.migrate import MIGRATIONS_DIR, upgrade_schema

DROPPED = {"sms_message_status", "sms_message_provider_sid", "sms_message_to_number"}


@pytest.mark.sqlite_only
def test_messages_of_0020_survive_and_the_unused_indexes_go(tmp_path):
    from sms.public import messages_for_call

    bind_database(f"sqlite:///{tmp_path}/before-0021.db")
    with database.connection_context():
        Runner(database.obj, directory=str(MIGRATIONS_DIR)).up(target="0020_reports_csv_national_numbers")
        assert DROPPED <= {index.name for index in database.get_indexes("sms_message")}
        database.execute_sql(
            "INSERT INTO sms_message (created_at, updated_at, to_number, body, parts, status, state, error_message, "
            "resend_count, provider, source, call_sid, clicks, created_by, claimed_by, send_failures, carrier) "
            "VALUES ('2026-02-02 09:00:00', '2026-02-02 09:00:00', '+819011112222', 'ご案内です', 1, 1, 'queued', '', "
            "0, '', 'ivr', 'CA0021', 0, '', '', 0, '')")
        assert "0021_outbox_indexes" in upgrade_schema()
        names = {index.name for index in database.get_indexes("sms_message")}
        assert not DROPPED & names and "sms_message_call_sid" in names
        assert "bulk_recipient_bulk_send_id" not in {index.name for index in database.get_indexes("bulk_recipient")}
        assert [m["body"] for m in messages_for_call("CA0021")] == ["ご案内です"]
        assert upgrade_schema() == []


def test_the_messages_of_a_call_are_found_through_the_partial_index(db):
    from sms.models import Message

    query = Message.select(Message.id).where(Message.call_sid == "CA0021").order_by(Message.id)
    sql, params = query.sql()
    if is_sqlite():
        plan = " ".join(str(row) for row in db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())
    else:
        with db.atomic():  # the table is small: make the planner show whether the index can serve at all
            db.execute_sql("SET LOCAL enable_seqscan = off")
            plan = " ".join(row[0] for row in db.execute_sql(f"EXPLAIN {sql}", params).fetchall())
    assert "sms_message_call_sid" in plan
