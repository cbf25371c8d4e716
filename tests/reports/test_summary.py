"""Building the report from daily aggregates (pure): zero days, per number, per menu, chart series."""
import datetime as dt
from collections import Counter

from reports.summary import Aggregates, build_report, chart_series, choice_label

D = dt.date.fromisoformat


def sample() -> Aggregates:
    agg = Aggregates()
    agg.stats[(D("2026-01-05"), "+815000000000")].update(calls=10, abandoned=3, completed=7, sms_sent=2, sms_clicked=1)
    agg.stats[(D("2026-01-05"), "+815000000001")].update(calls=4, transferred=4)
    agg.stats[(D("2026-01-07"), "+815000000000")].update(calls=1, abandoned=1)
    agg.stats[(D("2026-01-07"), "")].update(sms_sent=5, sms_delivered=4, sms_failed=1)
    agg.abandons.update({(D("2026-01-05"), "+815000000000", "main", "受付"): 2,
                         (D("2026-01-05"), "+815000000000", "sub", "SMS案内"): 1,
                         (D("2026-01-07"), "+815000000000", "main", "受付"): 1})
    agg.choices.update({(D("2026-01-05"), "+815000000000", "main", "受付", "digit", "2"): 3,
                        (D("2026-01-05"), "+815000000000", "main", "受付", "digit", "1"): 5,
                        (D("2026-01-05"), "+815000000000", "main", "受付", "timeout", ""): 2,
                        (D("2026-01-05"), "+815000000000", "main", "受付", "mis_entry", "9"): 1})
    return agg


def test_every_day_of_the_range_has_a_row_with_zeros_where_nothing_happened():
    report = build_report(sample(), D("2026-01-04"), D("2026-01-07"))
    assert [(r.day.isoformat(), r.calls, r.abandoned) for r in report.days] == [
        ("2026-01-04", 0, 0), ("2026-01-05", 14, 3), ("2026-01-06", 0, 0), ("2026-01-07", 1, 1)]
    assert report.total.calls == 15 and report.total.sms_sent == 7 and report.total.sms_delivered == 4


def test_per_number_and_per_menu():
    report = build_report(sample(), D("2026-01-05"), D("2026-01-07"))
    assert [(r.dialled, r.calls) for r in report.by_number] == [("", 0), ("+815000000000", 11), ("+815000000001", 4)]
    assert report.abandons == [("main", "受付", 3), ("sub", "SMS案内", 1)]
    menu = report.menus[0]
    assert (menu.node_name, menu.items, menu.total) == (
        "受付", [("1", 5), ("2", 3), ("入力ミス (9)", 1), ("入力タイムアウト", 2)], 11)


def test_range_limits_what_is_counted():
    report = build_report(sample(), D("2026-01-06"), D("2026-01-07"))
    assert report.total.calls == 1
    assert report.abandons == [("main", "受付", 1)]
    assert report.menus == []


def test_one_number_only():
    report = build_report(sample().only("+815000000001"), D("2026-01-05"), D("2026-01-07"))
    assert report.total.counts == Counter(calls=4, transferred=4)
    assert report.abandons == []


def test_chart_series_and_rates():
    report = build_report(sample(), D("2026-01-05"), D("2026-01-06"))
    days = ["2026-01-05", "2026-01-06"]
    charts = chart_series(report)
    hours = charts.pop("hours")
    assert (hours["slot"], hours["slots"], hours["whole"]["values"]) == ("hour", list(range(24)), [0] * 24)
    assert charts == {
        "calls": {"slot": "day", "slots": days, "rate": "途中放棄率",
                  "whole": {"key": "calls", "name": "着信", "values": [14, 0]},
                  "part": {"key": "abandoned", "name": "途中放棄", "values": [3, 0]},
                  "extra": {"key": "retry-limit", "name": "リトライ上限", "values": [0, 0]}},
        "sms": {"slot": "day", "slots": days, "rate": "クリック率",
                "whole": {"key": "sms-sent", "name": "SMS送信", "values": [2, 0]},
                "part": {"key": "sms-clicked", "name": "URLクリック", "values": [1, 0]}}}
    assert round(report.days[0].abandon_rate, 3) == round(3 / 14, 3)
    assert report.days[1].abandon_rate == 0.0
    assert choice_label("digit", "") == "(空)"


def test_call_path_reads_like_the_menus():
    from reports.summary import outcome_label, path_steps

    events = [("node", "main", "受付メニュー", None, None), ("digit", "main", "受付メニュー", "3", None),
              ("node", "num", "携帯番号入力", None, None), ("mis_entry", "num", "携帯番号入力", "0312", None),
              ("timeout", "num", "携帯番号入力", None, None), ("sms", "num", "携帯番号入力", None, "box 1"),
              ("hangup", None, None, None, None)]
    assert path_steps(events) == ["受付メニュー", "[3]", "携帯番号入力", "入力ミス[0312]", "タイムアウト", "SMS送信", "切断"]
    assert path_steps([]) == []
    assert outcome_label("abandoned") == "途中放棄" and outcome_label(None) == "通話中"


def test_a_digit_is_labelled_with_what_it_leads_to_when_known():
    report = build_report(sample(), D("2026-01-05"), D("2026-01-05"), {("main", "1"): "SMS送信"})
    (menu,) = report.menus
    assert menu.items == [("1: SMS送信", 5), ("2", 3), ("入力ミス (9)", 1), ("入力タイムアウト", 2)]


def test_a_menu_key_used_differently_by_two_flows_is_not_guessed(db):
    from ivr.models import Flow, Node
    from ivr.public import menu_choice_names

    for number, target_name in (("+815000000001", "SMS送信"), ("+815000000002", "オペレーター")):
        flow = Flow.create(name=number, number=number, entry_key="main")
        Node.create(flow=flow, key="main", name="受付", kind="menu", exits='{"1": "next", "2": "bye"}')
        Node.create(flow=flow, key="next", name=target_name, kind="sms", position=1)
        Node.create(flow=flow, key="bye", name="終話", kind="hangup", position=2)
    assert menu_choice_names() == {("main", "2"): "終話"}
