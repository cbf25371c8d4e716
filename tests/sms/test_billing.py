"""R-31 / seed 000: billable messages count as of the tally on the first business day of the next month. December
2026 closes on Monday 2027-01-04 (New Year's Day on Friday, then the weekend): a receipt on 2 January still counts,
one on 5 January no longer changes the 確定 figure; the month being sent shows live figures (速報)."""
import datetime as dt

import pytest

from core.calendar import BusinessCalendar
from core.models import CompanyHoliday
from sms.billing import close_billing, closing_day, month_to_close, monthly_counts
from sms.models import Message
from sms.outbox import run_dispatch
from sms.receipts import record_receipt
from sms.sending import queue_text


@pytest.mark.parametrize("month, closes", [
    ("2026-12-01", "2027-01-04"),   # holiday Friday + weekend
    ("2026-04-01", "2026-05-01"),   # a Friday in Golden Week that is a business day
    ("2026-02-01", "2026-03-02"),   # the 1st is a Sunday
    ("2021-07-01", "2021-08-02"),
])
def test_closing_day_is_the_first_business_day_of_the_next_month(month, closes):
    assert closing_day(dt.date.fromisoformat(month), BusinessCalendar()) == dt.date.fromisoformat(closes)


def test_company_holidays_move_the_closing_day():
    calendar = BusinessCalendar({dt.date(2027, 1, 4): "年始休業", dt.date(2027, 1, 5): "年始休業"})
    assert closing_day(dt.date(2026, 12, 1), calendar) == dt.date(2027, 1, 6)
    assert month_to_close(dt.date(2027, 1, 5), calendar) is None
    assert month_to_close(dt.date(2027, 1, 6), calendar) == dt.date(2026, 12, 1)


def sent_on(clock, moment: str, number: str) -> Message:
    clock.set(moment)
    message_id = queue_text("12月のお知らせ", number, source="api").message_id
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()  # the simulator's receipt ("delivered" for ordinary numbers)
    return Message.get_by_id(message_id)


def test_the_december_count_is_fixed_on_the_first_business_day(app, clock, manager_client):
    sent_on(clock, "2026-12-10 10:00", "090-1234-5601")
    late = sent_on(clock, "2026-12-31 23:00", "090-9999-0000")  # no receipt yet (a docomo number)
    later = sent_on(clock, "2026-12-31 23:30", "090-9999-0000")

    clock.set("2027-01-02 09:00")  # a receipt over the New Year holiday still counts for December
    record_receipt(late.provider_sid, "delivered", None)
    assert close_billing() == "not yet"
    clock.set("2027-01-03 23:59")
    assert close_billing() == "not yet"
    page = manager_client.get("/sms/log/monthly?month=2026-12").get_data(as_text=True)
    assert "速報" in page and "2027-01-04（翌月の第1営業日）の集計で確定します" in page

    clock.set("2027-01-04 00:10")
    assert close_billing() == "fixed"
    assert close_billing() == "already fixed"
    clock.set("2027-01-05 10:00")
    record_receipt(later.provider_sid, "delivered", None)  # after the tally: December's 確定 count stays
    fixed = monthly_counts(dt.date(2026, 12, 1))
    assert fixed.fixed and fixed.fixed_at == dt.datetime(2027, 1, 4, 0, 10)
    assert [(r["box_number"], r["total"], r["delivered"], r["billable"]) for r in fixed.rows] == [(None, 3, 2, 2)]
    page = manager_client.get("/sms/log/monthly?month=2026-12").get_data(as_text=True)
    assert "確定" in page and "2027-01-04 00:10 に確定した件数です" in page

    sent_on(clock, "2027-01-05 11:00", "090-1234-5602")
    january = monthly_counts(dt.date(2027, 1, 1))
    assert not january.fixed and [r["billable"] for r in january.rows] == [1]
    assert "速報" in manager_client.get("/sms/log/monthly?month=2027-01").get_data(as_text=True)


def test_a_missed_close_runs_on_the_next_day_and_company_holidays_count(app, clock):
    CompanyHoliday.create(day=dt.date(2027, 1, 4), name="年始休業")
    sent_on(clock, "2026-12-10 10:00", "090-1234-5601")
    clock.set("2027-01-04 12:00")
    assert close_billing() == "not yet"
    clock.set("2027-01-07 08:00")  # the scheduler was down on the 5th and 6th
    assert close_billing() == "fixed"
    assert monthly_counts(dt.date(2026, 12, 1)).fixed_at == dt.datetime(2027, 1, 7, 8, 0)
