"""Business days: Monday to Friday, minus Japanese public holidays (jpholiday), minus company holidays."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import jpholiday

from core.models import CompanyHoliday

WEEKDAY_LABELS = "月火水木金土日"


@lru_cache(maxsize=4096)
def public_holiday_name(day: dt.date) -> str | None:
    return jpholiday.is_holiday_name(day)


def company_holidays(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    rows = CompanyHoliday.select().where(CompanyHoliday.day.between(start, end))
    return {_as_date(row.day): row.name for row in rows}


class BusinessCalendar:
    """A view of the calendar with company holidays loaded once for a span of dates."""

    def __init__(self, company: dict[dt.date, str] | None = None):
        self.company = company or {}

    @classmethod
    def load(cls, around: dt.date, days: int = 400) -> "BusinessCalendar":
        span = dt.timedelta(days=days)
        return cls(company_holidays(around - span, around + span))

    def holiday_name(self, day: dt.date) -> str | None:
        return self.company.get(day) or public_holiday_name(day)

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def next_business_day(self, day: dt.date) -> dt.date:
        """The first business day strictly after `day`."""
        day += dt.timedelta(days=1)
        while not self.is_business_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        for _ in range(count):
            day = self.next_business_day(day)
        return day


def calendar_for(day: dt.date) -> BusinessCalendar:
    """The business calendar with company holidays from the database."""
    return BusinessCalendar.load(day)


def is_business_day(day: dt.date) -> bool:
    return calendar_for(day).is_business_day(day)


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def weekday_label(day: dt.date) -> str:
    return WEEKDAY_LABELS[day.weekday()]
