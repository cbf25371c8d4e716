import datetime as dt

import pytest

from core import clock as clock_module
from core.calendar import BusinessCalendar, calendar_for
from core.models import CompanyHoliday


@pytest.mark.parametrize(
    "day, business",
    [("2026-01-01", False), ("2026-01-02", True), ("2026-01-03", False), ("2026-01-05", True),
     ("2021-07-22", False), ("2021-07-23", False), ("2021-07-26", True)],
)
def test_business_days_follow_weekends_and_japanese_holidays(day, business):
    assert BusinessCalendar().is_business_day(dt.date.fromisoformat(day)) is business


def test_company_holidays_from_the_database_are_days_off(db):
    CompanyHoliday.create(day=dt.date(2026, 8, 14), name="夏季休業")
    calendar = calendar_for(dt.date(2026, 8, 14))
    assert not calendar.is_business_day(dt.date(2026, 8, 14))
    assert calendar.next_business_day(dt.date(2026, 8, 13)) == dt.date(2026, 8, 17)


def test_add_business_days_skips_the_2021_olympic_holidays():
    calendar = BusinessCalendar()
    assert calendar.add_business_days(dt.date(2021, 7, 21), 1) == dt.date(2021, 7, 26)
    assert calendar.add_business_days(dt.date(2021, 7, 19), 2) == dt.date(2021, 7, 21)


def test_fake_clock_moves_only_when_told(clock):
    assert clock_module.now() == dt.datetime(2026, 1, 5, 10, 0)
    clock.advance(minutes=90)
    assert clock_module.now() == dt.datetime(2026, 1, 5, 11, 30)
    clock.set("2026-03-01T00:00:00+00:00")
    assert clock_module.now() == dt.datetime(2026, 3, 1, 9, 0)  # UTC midnight is 09:00 in Tokyo
