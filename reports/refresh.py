"""R-51, the 13:00 publication rule, as pure functions of a moment and a business calendar.

A day D becomes visible at the refresh on the `lag`-th business day after it (Mon -> Wed,
Thu -> Mon, Fri/Sat/Sun -> Tue). When D is the last day of a run of `long_holiday_days` or
more consecutive days off, it is held back `holdback_days` more business days (seed 004:
07-22..25 off -> the 07-27 refresh shows data through 07-24; 07-25 appears on 07-28).
What a refresh shows is a prefix of the calendar: every day up to the cutoff, and nothing
after the first day that is not visible yet.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

ONE_DAY = dt.timedelta(days=1)


class Calendar(Protocol):
    def is_business_day(self, day: dt.date) -> bool: ...

    def add_business_days(self, day: dt.date, count: int) -> dt.date: ...


@dataclass(frozen=True)
class RefreshRule:
    refresh_time: dt.time = dt.time(13, 0)
    lag_business_days: int = 2
    long_holiday_days: int = 3
    holdback_days: int = 1

    @classmethod
    def from_settings(cls, settings) -> RefreshRule:
        hour, minute = (int(part) for part in settings["reports.refresh_time"].split(":"))
        return cls(
            refresh_time=dt.time(hour, minute),
            lag_business_days=settings["reports.lag_business_days"],
            long_holiday_days=settings["reports.long_holiday_days"],
            holdback_days=settings["reports.long_holiday_holdback_days"],
        )


def days_off_run(day: dt.date, calendar: Calendar) -> tuple[dt.date, dt.date] | None:
    """The first and last day of the run of consecutive days off containing `day` (None on a business day)."""
    if calendar.is_business_day(day):
        return None
    first = last = day
    while not calendar.is_business_day(first - ONE_DAY):
        first -= ONE_DAY
    while not calendar.is_business_day(last + ONE_DAY):
        last += ONE_DAY
    return first, last


def is_held_back(day: dt.date, calendar: Calendar, rule: RefreshRule) -> bool:
    """Whether `day` is the last day of a long holiday (which the seed publishes one business day later)."""
    run = days_off_run(day, calendar)
    if run is None:
        return False
    first, last = run
    return day == last and (last - first).days + 1 >= rule.long_holiday_days


def visible_from(day: dt.date, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.date:
    """The business day whose refresh first shows `day`'s data."""
    shown_on = calendar.add_business_days(day, rule.lag_business_days)
    if is_held_back(day, calendar, rule):
        shown_on = calendar.add_business_days(shown_on, rule.holdback_days)
    return shown_on


def last_refresh_day(run_at: dt.datetime, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.date:
    """The business day of the latest scheduled refresh at or before `run_at` (before 13:00: the previous one)."""
    day = run_at.date()
    if run_at.time() < rule.refresh_time:
        day -= ONE_DAY
    while not calendar.is_business_day(day):
        day -= ONE_DAY
    return day


def last_refresh_at(run_at: dt.datetime, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.datetime:
    """The moment of the latest scheduled refresh at or before `run_at`."""
    return dt.datetime.combine(last_refresh_day(run_at, calendar, rule), rule.refresh_time)


def cutoff_for_refresh_day(refresh_day: dt.date, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.date:
    """The last day of the visible prefix at the refresh held on `refresh_day`."""
    # Every day up to `surely_visible` is shown: even held back it appears by lag + holdback
    # business days later, and that is no later than `refresh_day`.
    longest_wait = rule.lag_business_days + rule.holdback_days
    surely_visible = refresh_day - ONE_DAY
    while calendar.add_business_days(surely_visible, longest_wait) > refresh_day:
        surely_visible -= ONE_DAY
    day = surely_visible + ONE_DAY
    while day <= refresh_day and visible_from(day, calendar, rule) <= refresh_day:
        day += ONE_DAY
    return day - ONE_DAY


def publish_cutoff(run_at: dt.datetime, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.date:
    """The last day visible in the report at `run_at`: what the latest refresh up to then published."""
    return cutoff_for_refresh_day(last_refresh_day(run_at, calendar, rule), calendar, rule)


def next_refresh_at(run_at: dt.datetime, calendar: Calendar, rule: RefreshRule = RefreshRule()) -> dt.datetime:
    """The first scheduled refresh strictly after `run_at` (shown on the page)."""
    day = run_at.date()
    if run_at.time() >= rule.refresh_time or not calendar.is_business_day(day):
        day = calendar.add_business_days(day, 1)
    return dt.datetime.combine(day, rule.refresh_time)
