"""R-51 publication rule, pure: which days a refresh shows, on the business calendar (jpholiday + company)."""
import datetime as dt

import pytest

from core.calendar import BusinessCalendar
from reports.refresh import (
    RefreshRule,
    days_off_run,
    is_held_back,
    last_refresh_day,
    next_refresh_at,
    publish_cutoff,
    visible_from,
)

D = dt.date.fromisoformat
CAL = BusinessCalendar()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# 2026-02-02 is a Monday; that week has no public holiday (2026-02-11 is the next one).
@pytest.mark.parametrize("day, shown_on", [
    ("2026-02-02", "2026-02-04"),  # Mon -> Wed
    ("2026-02-03", "2026-02-05"),  # Tue -> Thu
    ("2026-02-04", "2026-02-06"),  # Wed -> Fri
    ("2026-02-05", "2026-02-09"),  # Thu -> Mon
    ("2026-02-06", "2026-02-10"),  # Fri -> Tue
    ("2026-02-07", "2026-02-10"),  # Sat -> Tue
    ("2026-02-08", "2026-02-10"),  # Sun -> Tue
])
def test_normal_week_day_is_shown_on_the_second_business_day_after_it(day, shown_on):
    assert visible_from(D(day), CAL) == D(shown_on)


@pytest.mark.parametrize("run_at, cutoff", [
    ("2026-02-04 13:00", "2026-02-02"),  # Wednesday's refresh shows Monday
    ("2026-02-09 13:00", "2026-02-05"),  # Monday's shows Thursday
    ("2026-02-10 13:00", "2026-02-08"),  # Tuesday's shows Friday, Saturday and Sunday
    ("2026-02-06 13:00", "2026-02-04"),
])
def test_normal_week_cutoffs(run_at, cutoff):
    assert publish_cutoff(at(run_at), CAL) == D(cutoff)


def test_seed_004_example_2021_july():
    # 07-22 and 07-23 are public holidays in 2021 (Olympic moves), then a weekend: four days off.
    assert days_off_run(D("2021-07-23"), CAL) == (D("2021-07-22"), D("2021-07-25"))
    assert is_held_back(D("2021-07-25"), CAL, RefreshRule())
    assert not is_held_back(D("2021-07-24"), CAL, RefreshRule())
    assert publish_cutoff(at("2021-07-27 13:00"), CAL) == D("2021-07-24")
    assert visible_from(D("2021-07-25"), CAL) == D("2021-07-28")
    assert publish_cutoff(at("2021-07-28 13:00"), CAL) > D("2021-07-25")
    assert publish_cutoff(at("2021-07-28 12:59"), CAL) == D("2021-07-24")


def test_three_day_weekend_holds_back_its_last_day():
    # 2026-01-10 Sat, 01-11 Sun, 01-12 Mon (成人の日): three days off; the Monday waits one more business day.
    assert days_off_run(D("2026-01-11"), CAL) == (D("2026-01-10"), D("2026-01-12"))
    assert visible_from(D("2026-01-09"), CAL) == D("2026-01-14")
    assert visible_from(D("2026-01-10"), CAL) == D("2026-01-14")
    assert visible_from(D("2026-01-12"), CAL) == D("2026-01-15")
    assert publish_cutoff(at("2026-01-14 13:00"), CAL) == D("2026-01-11")
    assert publish_cutoff(at("2026-01-15 13:00"), CAL) == D("2026-01-13")


def test_an_ordinary_weekend_is_not_a_long_holiday():
    assert not is_held_back(D("2026-02-08"), CAL, RefreshRule())


@pytest.mark.parametrize("run_at, cutoff", [
    ("2026-02-04 12:59:59", "2026-02-01"),  # before 13:00 Tuesday's refresh (Fri..Sun) still stands
    ("2026-02-04 13:00", "2026-02-02"),
    ("2026-02-04 23:00", "2026-02-02"),
    ("2026-02-07 10:00", "2026-02-04"),  # Saturday: Friday's refresh stands
])
def test_before_and_after_refresh_time(run_at, cutoff):
    assert publish_cutoff(at(run_at), CAL) == D(cutoff)


def test_company_holidays_count_as_days_off():
    # A company holiday on Friday 2026-02-06 makes Fri..Sun a three-day run.
    cal = BusinessCalendar({D("2026-02-06"): "創立記念日"})
    assert days_off_run(D("2026-02-07"), cal) == (D("2026-02-06"), D("2026-02-08"))
    assert visible_from(D("2026-02-05"), cal) == D("2026-02-10")  # Thu -> Mon(1), Tue(2)
    # 2026-02-11 is 建国記念の日, so Tuesday + 1 business day is Thursday the 12th.
    assert visible_from(D("2026-02-08"), cal) == D("2026-02-12")


def test_rule_comes_from_settings():
    settings = {"reports.refresh_time": "09:30", "reports.lag_business_days": 1, "reports.long_holiday_days": 4,
                "reports.long_holiday_holdback_days": 2}
    rule = RefreshRule.from_settings(settings)
    assert rule == RefreshRule(dt.time(9, 30), 1, 4, 2)
    assert publish_cutoff(at("2026-02-04 09:30"), CAL, rule) == D("2026-02-03")
    assert publish_cutoff(at("2026-02-04 09:29"), CAL, rule) == D("2026-02-02")


def test_longer_holdback_keeps_the_visible_days_a_prefix():
    # Holding the last holiday back two days must not publish the business day after it first.
    rule = RefreshRule(holdback_days=2)
    assert visible_from(D("2026-01-12"), CAL, rule) == D("2026-01-16")
    assert visible_from(D("2026-01-13"), CAL, rule) == D("2026-01-15")
    assert publish_cutoff(at("2026-01-15 13:00"), CAL, rule) == D("2026-01-11")
    assert publish_cutoff(at("2026-01-16 13:00"), CAL, rule) == D("2026-01-14")


def test_refresh_days_and_next_refresh():
    assert last_refresh_day(at("2026-02-09 12:00"), CAL) == D("2026-02-06")  # Monday morning: Friday's
    assert last_refresh_day(at("2026-02-09 13:00"), CAL) == D("2026-02-09")
    assert next_refresh_at(at("2026-02-09 12:00"), CAL) == at("2026-02-09 13:00")
    assert next_refresh_at(at("2026-02-09 13:00"), CAL) == at("2026-02-10 13:00")
    assert next_refresh_at(at("2026-02-07 13:00"), CAL) == at("2026-02-09 13:00")


def test_cutoff_never_moves_backwards_over_a_year():
    moment = at("2026-01-01 00:00")
    previous = publish_cutoff(moment, CAL)
    while moment < at("2027-01-01 00:00"):
        moment += dt.timedelta(hours=6)
        cutoff = publish_cutoff(moment, CAL)
        assert cutoff >= previous
        assert all(visible_from(day, CAL) <= last_refresh_day(moment, CAL)
                   for day in (cutoff - dt.timedelta(days=n) for n in range(10)))
        previous = cutoff
