"""Migration 0013: calls stored before issue 13 are carried over as far as their records allow, published days
keep their figures, and the pages say which days were recorded the old way."""
import datetime as dt

import pytest

from core.migrate import upgrade_schema
from tests.support.migrations import insert, schema_at

DIALLED = "+815000000000"
AT = dt.datetime(2026, 2, 2, 10)


def old_call(sid: str, outcome: str, events: list[tuple[str, str]], abandoned_in: str | None = None) -> int:
    call_id = insert("ivr_call", call_sid=sid, from_number="+819012345678", to_number=DIALLED, started_at=AT,
                     ended_at=AT + dt.timedelta(seconds=30), duration_seconds=30, outcome=outcome,
                     last_node_key="main", last_node_name="メインメニュー", abandoned_node_key=abandoned_in,
                     abandoned_node_name="メインメニュー" if abandoned_in else None, status="completed", simulated=0,
                     step=3, state="{}", last_response="")
    for kind, detail in events:
        insert("ivr_call_event", call_id=call_id, at=AT, kind=kind, node_key="main", node_name="メインメニュー",
               digits="", detail=detail)
    return call_id


@pytest.mark.sqlite_only
def test_old_calls_are_carried_over_and_published_days_keep_their_figures(tmp_path):
    from ivr.models import Call, Node
    from reports.aggregate import compute_live, load_published

    with schema_at(f"sqlite:///{tmp_path}/before-0013.db", "0012_reports_csv_lines_guarded"):
        flow_id = insert("ivr_flow", name="代表", number=DIALLED, description="", entry_key="main", revision="r",
                         created_at=AT, updated_at=AT, updated_by="")
        insert("ivr_node", flow_id=flow_id, key="main", name="メインメニュー", kind="menu", position=0, digits=1,
               timeout_seconds=5, max_tries=4, exits="{}", params="{}")
        fell_back = old_call("CA" + "1" * 32, "completed", [
            ("timeout", "5 秒間入力なし（1/3 回目、ガイダンスを再生し直し）"),
            ("mis_entry", "該当する分岐なし（3/3 回目、リトライ上限 → 終話）")])
        served = old_call("CA" + "2" * 32, "completed", [("digit", "→ SMS")])
        gone = old_call("CA" + "3" * 32, "abandoned", [("hangup", "途中放棄: メインメニュー")], abandoned_in="main")
        insert("daily_stat", day="2026-02-02", dialled=DIALLED, calls=3, completed=2, abandoned=1, transferred=0,
               voicemail=0, errors=0, duration_seconds=90, sms_sent=0, sms_delivered=0, sms_failed=0, sms_other=0,
               sms_clicked=0)
        insert("daily_abandon", day="2026-02-02", dialled=DIALLED, node_key="main", node_name="メインメニュー",
               count=1)

        assert "0013_call_records" in upgrade_schema()

        assert Node.get().spec().max_mis_entries == 4  # the old shared limit becomes both limits
        assert [Call.get_by_id(i).outcome for i in (fell_back, served, gone)] == [
            "retry_limit", "completed", "abandoned"]
        old = Call.get_by_id(gone)
        assert (old.abandoned_node_key, old.abandoned_part, old.abandoned_guidance_name, old.timeline) == (
            "main", "unknown", None, None)
        day = dt.date(2026, 2, 2)
        published = load_published(day, day)
        counts = published.stats[(day, DIALLED)]
        assert (counts["completed"], counts["retry_limit"], counts["legacy_calls"]) == (2, 0, 3)  # as published
        assert list(published.abandon_places) == [(day, DIALLED, "main", "メインメニュー", "unknown", "")]
        live = compute_live(day, day).stats[(day, DIALLED)]
        assert (live["completed"], live["retry_limit"], live["legacy_calls"]) == (1, 1, 3)  # the records, carried


def test_the_report_says_when_days_were_recorded_before_the_change(make_call, manager_client, db):
    from ivr.models import Call

    make_call("2026-01-02 10:00", outcome="abandoned", abandoned_in=("main", "受付"))
    Call.update(abandoned_part="unknown").execute()  # as migration 0013 leaves such a call
    html = manager_client.get("/reports/?from=2026-01-01&to=2026-01-03&mode=live").get_data(as_text=True)
    assert 'id="legacy-note"' in html and "2026-01-02〜2026-01-02 の通話には、記録方法の変更前" in html
    assert "不明（変更前の記録）" in html
    fresh = make_call("2026-01-04 10:00")
    Call.update(timeline='{"at": 0, "items": []}').where(Call.id == fresh.id).execute()
    html = manager_client.get("/reports/?from=2026-01-04&to=2026-01-04&mode=live").get_data(as_text=True)
    assert 'id="legacy-note"' not in html
