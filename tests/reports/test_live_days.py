"""The live view (reports.live): the days after the refresh's cutoff come from the snapshot the refresh (and then the
snapshot job) took, plus what came or changed since; whatever changes, the figures stay exactly what counting
every record gives (compute_live)."""
import datetime as dt

import pytest

from ivr.models import Call, CallEvent, Node
from reports import live
from reports.aggregate import compute_live
from reports.jobs import SNAPSHOT_JOB, latest_refresh, refresh_reports, snapshot_live_days
from reports.live import compute_current, dump_figures, latest_snapshot, load_figures, take_snapshot
from reports.models import LiveSnapshot
from sms.models import Message
from sms.receipts import apply_status
from tests.reports.conftest import DIALLED, OTHER_DIALLED

D = dt.date.fromisoformat
MAIN = ("main", "受付メニュー")
SUB = ("sub", "サブメニュー")
FIRST, LAST = D("2026-02-02"), D("2026-02-06")
NUMBERS = (None, DIALLED, OTHER_DIALLED, "")


def seed(make_call, make_message, flow):
    for day in ("2026-02-02", "2026-02-03", "2026-02-05"):
        call = make_call(f"{day} 09:00", flow=flow, events=[("node", *MAIN, ""), ("digit", *MAIN, "1")])
        make_call(f"{day} 10:00", outcome="abandoned", abandoned_in=MAIN, flow=flow,
                  events=[("node", *MAIN, ""), ("timeout", *MAIN, "")])
        make_call(f"{day} 11:00", to=OTHER_DIALLED)
        make_message(f"{day} 09:01", state="sent", call=call)
        make_message(f"{day} 12:00", state="delivered")


def going_call(make_call, flow, started: str) -> Call:
    call = make_call(started, outcome=None, flow=flow, events=[("node", *MAIN, "")])
    Call.update(ended_at=None, duration_seconds=None).where(Call.id == call.id).execute()
    return Call.get_by_id(call.id)


def end_call(call: Call, at: str, digit: str = "2") -> None:
    at = dt.datetime.fromisoformat(at)
    CallEvent.create(call=call, at=at, kind="digit", node_key=MAIN[0], node_name=MAIN[1], digits=digit)
    Call.update(ended_at=at, duration_seconds=60, outcome="transferred").where(Call.id == call.id).execute()


def current(start=FIRST, end=LAST, dialled=None):
    refresh = latest_refresh()
    return compute_current(start, end, dialled, refresh.cutoff, refresh.run_at)


def assert_equals_full_count(start=FIRST, end=LAST):
    for dialled in NUMBERS:
        assert current(start, end, dialled) == compute_live(start, end, dialled), dialled


@pytest.fixture
def published(clock, make_call, make_message, menu_flow):
    """02-02..06 recorded, a call still going on 02-06; Wednesday 02-04's refresh published through 02-02."""
    seed(make_call, make_message, menu_flow)
    going = going_call(make_call, menu_flow, "2026-02-04 12:00")
    clock.set("2026-02-04 13:00")
    refresh_reports()
    assert latest_refresh().cutoff == D("2026-02-02")
    return going


def no_full_count(monkeypatch):
    def refuse(*args):
        raise AssertionError("the live view counted every record")
    monkeypatch.setattr(live, "compute_live", refuse)


def test_the_refresh_takes_a_snapshot_and_the_view_counts_only_what_is_new(published, clock, make_call,
                                                                            make_message, menu_flow, monkeypatch):
    snapshot = latest_snapshot()
    assert snapshot.cutoff == D("2026-02-02") and snapshot.taken_at == dt.datetime(2026, 2, 4, 13, 0)
    assert snapshot.going == f"[{published.id}]"  # not counted until it ends
    expected = {dialled: compute_live(FIRST, LAST, dialled) for dialled in NUMBERS}

    clock.set("2026-02-05 18:00")
    make_call("2026-02-05 17:00", flow=menu_flow, events=[("node", *MAIN, ""), ("digit", *MAIN, "3")])
    make_call("2026-02-03 17:00", to=OTHER_DIALLED, outcome="error")  # a record carried over, on an earlier day
    end_call(published, "2026-02-05 17:30")
    late = make_message("2026-02-03 18:00", state="sent")
    assert apply_status(late, "delivered", None)
    receipt = Message.get(Message.created_at == dt.datetime(2026, 2, 5, 9, 1))
    assert apply_status(receipt, "delivered", None)  # a receipt for an SMS the snapshot counted as sent
    live_view = {dialled: current(dialled=dialled) for dialled in NUMBERS}
    assert live_view != expected  # what changed shows
    with monkeypatch.context() as patch:
        no_full_count(patch)
        assert {dialled: current(dialled=dialled) for dialled in NUMBERS} == live_view
    assert_equals_full_count()
    assert_equals_full_count(D("2026-02-03"), D("2026-02-03"))
    assert_equals_full_count(D("2026-02-01"), D("2026-02-10"))


def test_the_job_moves_the_snapshot_on_counting_only_what_is_new(published, clock, make_call, make_message,
                                                                  menu_flow):
    clock.set("2026-02-05 09:00")
    make_call("2026-02-05 08:50", flow=menu_flow, events=[("digit", *MAIN, "2")])
    end_call(published, "2026-02-05 08:55")
    clock.set("2026-02-05 10:00")  # the call above is past the margin: counted into the snapshot
    newest = make_call("2026-02-05 09:59", to=OTHER_DIALLED)  # within the margin: left to the views
    assert snapshot_live_days() == f"days after 2026-02-02 counted through call {newest.id - 1}"
    moved = latest_snapshot()
    assert LiveSnapshot.select().count() == 1
    assert moved.going == "[]" and moved.last_call_id == newest.id - 1
    assert_equals_full_count()

    LiveSnapshot.delete().execute()  # counted from every record instead: the same figures
    assert load_figures(take_snapshot(D("2026-02-02"), clock.now()).figures) == load_figures(moved.figures)
    assert_equals_full_count()


def test_a_new_cutoff_reuses_the_snapshot_of_the_days_after_it(published, clock, make_call, menu_flow):
    clock.set("2026-02-05 13:00")
    make_call("2026-02-05 12:00", flow=menu_flow, events=[("digit", *MAIN, "1")])
    refresh_reports()  # Thursday: through 02-03
    assert latest_snapshot().cutoff == D("2026-02-03")
    assert_equals_full_count()
    assert all(day > D("2026-02-03") for day, _ in load_figures(latest_snapshot().figures).stats)


def test_a_menu_that_changes_kind_is_counted_again(published, clock, menu_flow, monkeypatch):
    """A menu's digits count as choices, other nodes' not: once a flow's node changes kind, the snapshot's choices
    no longer hold (a cache of live figures kept past such a change showed digits no longer counted)."""
    before = current()
    assert any(key[2] == "main" for key in before.choices)
    clock.set("2026-02-04 15:00")
    Node.update(kind="sms").where((Node.flow == menu_flow.id) & (Node.key == "main")).execute()
    after = current()
    assert not any(key[2] == "main" and key[0] > D("2026-02-02") for key in after.choices)
    assert_equals_full_count(D("2026-02-03"), LAST)  # a published day keeps the figures it was published with
    snapshot_live_days()  # the next snapshot counts with the menus as they are
    with monkeypatch.context() as patch:
        no_full_count(patch)
        assert current() == after


def test_figures_survive_the_round_trip(published):
    figures = compute_live(FIRST, LAST)
    assert load_figures(dump_figures(figures)) == figures


def test_the_snapshot_job_is_registered(app):
    from core.scheduler import JobRegistry
    from reports import register_jobs

    registry = JobRegistry()
    register_jobs(registry, app)
    assert SNAPSHOT_JOB in registry.jobs


def test_a_snapshot_of_an_older_cutoff_does_not_replace_a_newer_one(published, clock):
    newer = latest_snapshot()
    take_snapshot(D("2026-02-01"), clock.now())
    assert latest_snapshot().id == newer.id and LiveSnapshot.select().count() == 1
