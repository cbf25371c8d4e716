"""R-50 counts, computed from real call, event and message rows, and stored by publishing."""
import datetime as dt

from ivr.models import Call, CallEvent
from reports.aggregate import compute_live, load_published, publish
from reports.models import DailyChoice, DailyStat
from reports.summary import build_report
from sms.models import Message
from tests.reports.conftest import DIALLED, OTHER_DIALLED

D = dt.date.fromisoformat
MAIN = ("main", "受付メニュー")
SUB = ("sub", "サブメニュー")


def digit(node, digits):
    return ("digit", node[0], node[1], digits)


def seed_day(make_call, make_message, flow):
    """2026-02-02: five calls to DIALLED, one to OTHER_DIALLED, SMS in every state; one call the day after."""
    node = lambda key, name: ("node", key, name, "")
    sms_call = make_call("2026-02-02 09:00", flow=flow, events=[
        node(*MAIN), digit(MAIN, "3"), node("sms", "SMS送信"), ("digit", "sms", "SMS送信", "09011112222"),
        ("digit", "sms", "SMS送信", "1"), ("sms", "sms", "SMS送信", ""), ("hangup", "", "", "")])
    make_call("2026-02-02 10:00", outcome="abandoned", abandoned_in=MAIN, flow=flow, events=[
        node(*MAIN), ("timeout", "main", "受付メニュー", ""), ("mis_entry", "main", "受付メニュー", "9")])
    make_call("2026-02-02 11:00", outcome="abandoned", abandoned_in=SUB, flow=flow, events=[
        node(*MAIN), digit(MAIN, "1"), node(*SUB)])
    make_call("2026-02-02 12:00", outcome="transferred", seconds=95, flow=flow, events=[
        node(*MAIN), digit(MAIN, "1"), node(*SUB), digit(SUB, "2"), ("transfer", "op", "転送", "")])
    make_call("2026-02-02 23:59:59", outcome="voicemail", flow=flow, events=[node(*MAIN), digit(MAIN, "2")])
    make_call("2026-02-02 13:00", outcome="error", to=OTHER_DIALLED)
    make_call("2026-02-03 00:00", outcome="abandoned", abandoned_in=MAIN, flow=flow)
    make_message("2026-02-02 09:01", state="delivered", call=sms_call, clicks=2)
    make_message("2026-02-02 09:02", state="failed", call=sms_call)
    make_message("2026-02-02 15:00", state="resend_wait")
    make_message("2026-02-02 16:00", state="delivered", clicks=1)
    make_message("2026-02-02 17:00", state="unknown")
    make_message("2026-02-03 08:00", state="delivered")


def test_counts_match_the_records_they_summarise(make_call, make_message, menu_flow):
    seed_day(make_call, make_message, menu_flow)
    report = build_report(compute_live(D("2026-02-02"), D("2026-02-02")), D("2026-02-02"), D("2026-02-02"))
    low, high = dt.datetime(2026, 2, 2), dt.datetime(2026, 2, 3)
    day_calls = Call.select().where((Call.started_at >= low) & (Call.started_at < high))
    day_sms = Message.select().where((Message.created_at >= low) & (Message.created_at < high))
    total = report.total
    assert total.calls == day_calls.count() == 6
    assert total.abandoned == day_calls.where(Call.outcome == "abandoned").count() == 2
    assert (total.completed, total.transferred, total.voicemail, total.errors) == (1, 1, 1, 1)
    assert total.duration_seconds == 30 * 5 + 95
    assert total.sms_sent == day_sms.count() == 5
    assert total.sms_delivered == day_sms.where(Message.state == "delivered").count() == 2
    assert total.sms_failed == day_sms.where(Message.state == "failed").count() == 1
    assert total.sms_other == 2  # resend_wait and unknown are not final successes or failures
    assert total.sms_clicked == day_sms.where(Message.clicks > 0).count() == 2
    assert report.abandons == [("main", "受付メニュー", 1), ("sub", "サブメニュー", 1)]


def test_per_digit_per_menu_and_mobile_numbers_never_counted_as_choices(make_call, make_message, menu_flow):
    seed_day(make_call, make_message, menu_flow)
    report = build_report(compute_live(D("2026-02-02"), D("2026-02-02")), D("2026-02-02"), D("2026-02-02"))
    menus = {menu.node_key: menu.items for menu in report.menus}
    assert menus == {
        "main": [("1", 2), ("2", 1), ("3", 1), ("入力ミス (9)", 1), ("入力タイムアウト", 1)],
        "sub": [("2", 1)],
    }
    pressed_in_main = (CallEvent.select().join(Call)
                       .where((CallEvent.kind == "digit") & (CallEvent.node_key == "main")
                              & (Call.started_at < dt.datetime(2026, 2, 3))).count())
    assert sum(count for label, count in menus["main"] if label.isdigit()) == pressed_in_main
    publish(D("2026-02-02"), D("2026-02-02"))
    assert not DailyChoice.select().where(DailyChoice.digits.contains("0901111")).exists()


def test_per_dialled_number_and_sms_outside_calls(make_call, make_message, menu_flow):
    seed_day(make_call, make_message, menu_flow)
    aggregates = compute_live(D("2026-02-02"), D("2026-02-02"))
    day = D("2026-02-02")
    assert aggregates.stats[(day, DIALLED)]["calls"] == 5
    assert aggregates.stats[(day, DIALLED)]["sms_sent"] == 2  # sent from the call to DIALLED
    assert aggregates.stats[(day, OTHER_DIALLED)]["errors"] == 1
    assert aggregates.stats[(day, "")]["sms_sent"] == 3  # API-sent: no dialled number
    only_other = compute_live(day, day, dialled=OTHER_DIALLED)
    assert set(only_other.stats) == {(day, OTHER_DIALLED)}
    only_api = compute_live(day, day, dialled="")
    assert set(only_api.stats) == {(day, "")} and only_api.stats[(day, "")]["sms_delivered"] == 1


def test_published_equals_live_and_republishing_replaces(make_call, make_message, menu_flow):
    seed_day(make_call, make_message, menu_flow)
    start, end = D("2026-02-01"), D("2026-02-03")
    assert publish(start, end) == 3
    assert load_published(start, end) == compute_live(start, end)
    make_call("2026-02-03 10:00", outcome="completed")
    publish(D("2026-02-03"), D("2026-02-03"))
    assert DailyStat.get(DailyStat.day == D("2026-02-03"), DailyStat.dialled == DIALLED).calls == 2
    assert load_published(start, end) == compute_live(start, end)


def test_the_admins_current_figures_equal_live_counting(clock, make_call, make_message, menu_flow):
    """compute_current reads what the refresh stored for days published and unchanged; the result must be what
    counting every record gives, whatever the range, the number, later SMS changes or unpublished days."""
    from reports.live import compute_current
    from sms.receipts import apply_status

    clock.set("2026-02-02 08:00")
    seed_day(make_call, make_message, menu_flow)
    clock.set("2026-02-04 13:00")
    publish(D("2026-02-01"), D("2026-02-03"))
    published_at = clock.now()
    clock.set("2026-02-04 14:00")
    make_call("2026-02-04 14:00", outcome="completed", flow=menu_flow, events=[digit(MAIN, "1")])  # not published
    make_message("2026-02-04 14:01", state="delivered")
    late = make_message("2026-02-02 18:00", state="sent")  # a day already published gains a message...
    assert apply_status(late, "delivered", None)  # ...and its receipt
    checks = [(D("2026-02-01"), D("2026-02-04"), None), (D("2026-02-02"), D("2026-02-02"), DIALLED),
              (D("2026-02-03"), D("2026-02-04"), None), (D("2026-02-02"), D("2026-02-04"), ""),
              (D("2026-02-04"), D("2026-02-04"), OTHER_DIALLED)]
    for start, end, dialled in checks:
        current = compute_current(start, end, dialled, D("2026-02-03"), published_at)
        assert current == compute_live(start, end, dialled), (start, end, dialled)
    assert compute_current(D("2026-02-01"), D("2026-02-04"), None, None, None) == compute_live(D("2026-02-01"),
                                                                                              D("2026-02-04"))


def test_calls_by_the_hour_they_started_live_and_published(make_call, make_message, menu_flow):
    seed_day(make_call, make_message, menu_flow)
    day = D("2026-02-02")
    expected = {9: (1, 0), 10: (1, 1), 11: (1, 1), 12: (1, 0), 13: (1, 0), 23: (1, 0)}
    live = build_report(compute_live(day, day), day, day).hours
    assert [hour for hour, _, _ in live] == list(range(24))
    assert {hour: (calls, abandoned) for hour, calls, abandoned in live if calls} == expected
    publish(day, day)
    published = build_report(load_published(day, day), day, day).hours
    assert published == live
    only_other = build_report(load_published(day, day).only(OTHER_DIALLED), day, day).hours
    assert [(hour, calls) for hour, calls, _ in only_other if calls] == [(13, 1)]
