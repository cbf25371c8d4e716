"""The live view counts a day not published yet once, and again only when its records changed (reports.live);
whatever changes, its figures stay exactly what counting every record gives (compute_live)."""
import datetime as dt

from ivr.models import Call, CallEvent
from reports.aggregate import compute_current, compute_live, publish
from reports.live import live_days
from tests.reports.conftest import DIALLED, OTHER_DIALLED

D = dt.date.fromisoformat
MAIN = ("main", "受付メニュー")
FIRST, LAST = D("2026-02-02"), D("2026-02-05")


def counting(asked: list):
    """compute_live, noting each range it is asked to count."""
    def compute(start, end, dialled):
        asked.append((start, end))
        return compute_live(start, end, dialled)
    return compute


def seed(make_call, make_message, flow):
    for day in ("2026-02-02", "2026-02-03", "2026-02-05"):
        call = make_call(f"{day} 09:00", flow=flow, events=[("node", *MAIN, ""), ("digit", *MAIN, "1")])
        make_call(f"{day} 10:00", outcome="abandoned", abandoned_in=MAIN, flow=flow,
                  events=[("node", *MAIN, ""), ("timeout", *MAIN, "")])
        make_call(f"{day} 11:00", to=OTHER_DIALLED)
        make_message(f"{day} 09:01", state="sent", call=call)


def test_unchanged_days_are_not_counted_again(app, make_call, make_message, menu_flow):
    seed(make_call, make_message, menu_flow)
    asked = []
    first = live_days(FIRST, LAST, None, counting(asked))
    assert first == compute_live(FIRST, LAST)
    assert asked == [(FIRST, D("2026-02-03")), (LAST, LAST)]  # 02-04 has no records: nothing to count

    asked.clear()
    assert live_days(FIRST, LAST, None, counting(asked)) == first
    assert asked == []


def test_a_day_is_counted_again_when_its_records_change(app, make_call, make_message, menu_flow):
    seed(make_call, make_message, menu_flow)
    live_days(FIRST, LAST, None, counting([]))

    asked = []
    make_call("2026-02-03 15:00", outcome="transferred", flow=menu_flow, events=[("digit", *MAIN, "2")])
    assert live_days(FIRST, LAST, None, counting(asked)) == compute_live(FIRST, LAST)
    assert asked == [(D("2026-02-03"), D("2026-02-03"))]

    asked.clear()
    message = make_message("2026-02-05 12:00", state="sent")
    assert live_days(FIRST, LAST, None, counting(asked)) == compute_live(FIRST, LAST)
    assert asked == [(LAST, LAST)]

    asked.clear()
    from sms.receipts import apply_status

    assert apply_status(message, "delivered", None)  # a receipt changes the day's SMS figures
    assert live_days(FIRST, LAST, None, counting(asked)) == compute_live(FIRST, LAST)
    assert asked == [(LAST, LAST)]


def test_a_day_with_a_call_in_progress_is_counted_every_time_until_it_ends(app, make_call, make_message,
                                                                           menu_flow):
    seed(make_call, make_message, menu_flow)
    live = make_call("2026-02-05 16:00", outcome=None, flow=menu_flow, events=[("node", *MAIN, "")])
    Call.update(ended_at=None, duration_seconds=None).where(Call.id == live.id).execute()
    live_days(FIRST, LAST, None, counting([]))

    asked = []
    CallEvent.create(call=live, at=dt.datetime(2026, 2, 5, 16, 0, 5), kind="digit", node_key=MAIN[0],
                     node_name=MAIN[1], digits="3")  # an event of a call still going: no fingerprint change
    assert live_days(FIRST, LAST, None, counting(asked)) == compute_live(FIRST, LAST)
    assert asked == [(LAST, LAST)]

    Call.update(ended_at=dt.datetime(2026, 2, 5, 16, 1), outcome="abandoned", abandoned_node_key=MAIN[0],
                abandoned_node_name=MAIN[1]).where(Call.id == live.id).execute()
    asked.clear()
    assert live_days(FIRST, LAST, None, counting(asked)) == compute_live(FIRST, LAST)
    assert asked == [(LAST, LAST)]
    asked.clear()
    live_days(FIRST, LAST, None, counting(asked))
    assert asked == []


def test_each_number_filter_is_kept_apart_and_current_figures_equal_live(clock, app, make_call, make_message,
                                                                         menu_flow):
    seed(make_call, make_message, menu_flow)
    clock.set("2026-02-04 13:00")
    publish(FIRST, D("2026-02-02"))
    published_at = clock.now()
    clock.set("2026-02-05 18:00")
    for _ in range(2):  # the second round reuses the days the first counted
        for dialled in (None, DIALLED, OTHER_DIALLED, ""):
            current = compute_current(FIRST, LAST, dialled, D("2026-02-02"), published_at)
            assert current == compute_live(FIRST, LAST, dialled), dialled
    make_call("2026-02-03 17:00", to=OTHER_DIALLED, outcome="error")
    for dialled in (None, DIALLED, OTHER_DIALLED, ""):
        assert compute_current(FIRST, LAST, dialled, D("2026-02-02"), published_at) == \
            compute_live(FIRST, LAST, dialled), dialled
