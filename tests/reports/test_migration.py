"""R-82: a database made before the stored call paths (0007) is upgraded with its report rows kept."""
import datetime as dt

import pytest

from core.db import database
from core.migrate import upgrade_schema
from tests.support.migrations import schema_at


@pytest.mark.sqlite_only
def test_report_tables_of_0006_survive_the_upgrade_to_stored_paths(tmp_path):
    from ivr.models import Call
    from reports.models import CallPath, DailyStat

    with schema_at(f"sqlite:///{tmp_path}/before-0007.db", "0006_reports"):
        assert "call_path" not in database.get_tables()
        database.execute_sql("INSERT INTO daily_stat (day, dialled, calls, completed, abandoned, transferred, "
                             "voicemail, errors, duration_seconds, sms_sent, sms_delivered, sms_failed, sms_other, "
                             "sms_clicked) VALUES ('2026-02-02', '+815000000000', 7, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0)")
        call = Call.create(call_sid="CA" + "1" * 32, to_number="+815000000000", started_at=dt.datetime(2026, 2, 2, 9))
        applied = upgrade_schema()
        assert "0007_reports_call_path" in applied and "0008_reports_csv_line" in applied
        stat = DailyStat.get()
        assert (stat.calls, stat.abandoned) == (7, 2)
        CallPath.create(call=call, path="受付メニュー → [1]", csv_line="2026-02-02 09:00:00,…")
        stored = CallPath.get(CallPath.call == call.id)
        assert (stored.path, stored.csv_line) == ("受付メニュー → [1]", "2026-02-02 09:00:00,…")


@pytest.mark.sqlite_only
def test_stored_call_lines_written_before_the_guarded_writer_are_rewritten_guarded(tmp_path):
    from ivr.models import Call
    from reports.call_rows import iter_csv_lines
    from reports.models import CallPath
    from reports.queries import CallFilter

    with schema_at(f"sqlite:///{tmp_path}/before-0012.db", "0011_sms_simulated_receipts"):
        call = Call.create(call_sid="CA" + "2" * 32, from_number="+819012345678", to_number="+815000000000",
                           started_at=dt.datetime(2026, 2, 2, 9), outcome="completed")
        unguarded = "2026-02-02 09:00:00,,+819012345678,+815000000000"
        CallPath.create(call=call, path="", csv_line=unguarded)
        assert "0012_reports_csv_lines_guarded" in upgrade_schema()
        assert CallPath.get(CallPath.call == call.id).csv_line is None
        day = CallFilter(start=dt.date(2026, 2, 2), end=dt.date(2026, 2, 2))
        (line,) = [line for batch in iter_csv_lines(day) for line in batch]
        assert ",090-1234-5678," in line and "+819012345678" not in line


@pytest.mark.sqlite_only
def test_days_published_before_the_hour_table_get_their_hours_from_their_calls(tmp_path):
    from reports.aggregate import load_published
    from reports.summary import build_report

    day = dt.date(2026, 2, 2)
    with schema_at(f"sqlite:///{tmp_path}/before-0019.db", "0012_reports_csv_lines_guarded"):
        counters = ("calls, completed, abandoned, transferred, voicemail, errors, duration_seconds, sms_sent, "
                    "sms_delivered, sms_failed, sms_other, sms_clicked")
        database.execute_sql(f"INSERT INTO daily_stat (day, dialled, {counters}) "
                             "VALUES (?, ?, 3, 2, 1, 0, 0, 0, 90, 0, 0, 0, 0, 0)", (day.isoformat(), "+815000000000"))
        for n, (started, outcome) in enumerate([("2026-02-02 09:10:00", "completed"),
                                                ("2026-02-02 09:50:00", "abandoned"),
                                                ("2026-02-02 17:05:00", "completed"),
                                                ("2026-02-03 09:00:00", "completed")]):  # not published
            database.execute_sql(
                "INSERT INTO ivr_call (call_sid, from_number, to_number, started_at, outcome, last_node_key, "
                "last_node_name, status, simulated, step, state, last_response) "
                "VALUES (?, '+819012345678', '+815000000000', ?, ?, '', '', 'completed', 0, 0, '{}', '')",
                (f"CA{n:032d}", started, outcome))
        assert "0019_reports_daily_hour" in upgrade_schema()
        hours = build_report(load_published(day, day + dt.timedelta(days=1)), day, day + dt.timedelta(days=1)).hours
        assert [(hour, calls, abandoned) for hour, calls, abandoned in hours if calls] == [(9, 2, 1), (17, 1, 0)]
