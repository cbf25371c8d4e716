"""Monthly billing counts (R-31, seed 000): billable messages count as of the tally on the first business day of
the next month. Until then a month's figures are live (速報); on that day they are fixed (確定) and later receipts
no longer change them.

Worked example (the business calendar: weekends, Japanese holidays, company holidays): December 2026 closes on
Monday 2027-01-04, the first business day after the New Year holiday (Fri 1st) and the weekend (2nd, 3rd); a
receipt arriving on 2 January still counts for December, one arriving on 5 January does not.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from peewee import Case, IntegrityError, fn

from core import clock
from core.calendar import BusinessCalendar, calendar_for
from core.config import setting
from core.db import database
from sms.models import BillingClose, BillingSnapshot, Message

log = logging.getLogger("sms.billing")
BILLING_CLOSE_TIME = "00:10"  # the daily check; it fixes a month only on (or after) its closing day
COUNT_FIELDS = ("total", "delivered", "failed", "handed", "billable", "billable_parts")


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def closing_day(month: dt.date, calendar: BusinessCalendar) -> dt.date:
    """The first business day of the month after `month`: the day `month` is fixed."""
    first = next_month(month)
    return first if calendar.is_business_day(first) else calendar.next_business_day(first)


def month_to_close(today: dt.date, calendar: BusinessCalendar) -> dt.date | None:
    """The month whose counts are due to be fixed by `today` (the previous one, from its closing day on)."""
    month = previous_month(today)
    return month if today >= closing_day(month, calendar) else None


# --- counting -------------------------------------------------------------------------------------------------
def live_counts(month: dt.date) -> list[dict]:
    """Per box for one month, counted now: messages, delivered, failed, handed over, and the billable ones."""
    start = dt.datetime.combine(month_start(month), dt.time())
    end = dt.datetime.combine(next_month(month), dt.time())
    delivered = fn.SUM(Case(None, [(Message.status == 2, 1)], 0))
    failed = fn.SUM(Case(None, [(Message.status == 3, 1)], 0))
    handed = fn.SUM(Case(None, [(Message.sent_at.is_null(False), 1)], 0))
    delivered_parts = fn.SUM(Case(None, [(Message.status == 2, Message.parts)], 0))
    handed_parts = fn.SUM(Case(None, [(Message.sent_at.is_null(False), Message.parts)], 0))
    query = (Message.select(Message.box_number, fn.COUNT(Message.id).alias("total"), delivered.alias("delivered"),
                            failed.alias("failed"), handed.alias("handed"), delivered_parts.alias("dparts"),
                            handed_parts.alias("hparts"))
             .where((Message.created_at >= start) & (Message.created_at < end))
             .group_by(Message.box_number).dicts())
    by_delivered = setting("sms.billing") == "delivered"
    out = []
    for row in query:
        counts = {k: int(v or 0) for k, v in row.items() if k != "box_number"}
        out.append({"box_number": row["box_number"], "total": counts["total"], "delivered": counts["delivered"],
                    "failed": counts["failed"], "handed": counts["handed"],
                    "billable": counts["delivered"] if by_delivered else counts["handed"],
                    "billable_parts": counts["dparts"] if by_delivered else counts["hparts"]})
    return sorted(out, key=lambda r: (r["box_number"] is None, r["box_number"] or 0))


def close_month(month: dt.date, now: dt.datetime | None = None) -> bool:
    """Fix `month`'s counts as they stand; False if it was fixed already (the first tally stands)."""
    month = month_start(month)
    rows = live_counts(month)
    try:
        with database.atomic():
            close = BillingClose.create(month=month, fixed_at=now or clock.now(), billing=setting("sms.billing"))
            for row in rows:
                BillingSnapshot.create(close=close, **row)
    except IntegrityError:
        return False
    log.info("SMS billing for %s fixed: %s billable", month.strftime("%Y-%m"), sum(r["billable"] for r in rows))
    return True


def close_billing(today: dt.date | None = None) -> str:
    """The daily job: on the first business day of a month (or the first run after it), fix the previous month."""
    today = today or clock.today()
    month = month_to_close(today, calendar_for(today))
    if month is None:
        return "not yet"
    if BillingClose.select().where(BillingClose.month == month).exists():
        return "already fixed"
    return "fixed" if close_month(month) else "already fixed"


# --- what the monthly page shows -------------------------------------------------------------------------------
@dataclass(frozen=True)
class MonthlyCounts:
    month: dt.date
    rows: list[dict]
    fixed_at: dt.datetime | None   # None: live figures (速報)
    closing_day: dt.date
    billing: str                   # the rule the figures follow ("delivered" / "all")

    @property
    def fixed(self) -> bool:
        return self.fixed_at is not None


def monthly_counts(month: dt.date) -> MonthlyCounts:
    """A fixed month's snapshot (確定), or the live counts (速報) for a month not fixed yet."""
    month = month_start(month)
    day = closing_day(month, calendar_for(next_month(month)))
    close = BillingClose.get_or_none(BillingClose.month == month)
    if close is None:
        return MonthlyCounts(month, live_counts(month), None, day, setting("sms.billing"))
    rows = [{"box_number": r.box_number, **{k: getattr(r, k) for k in COUNT_FIELDS}}
            for r in BillingSnapshot.select().where(BillingSnapshot.close == close.id)]
    rows.sort(key=lambda r: (r["box_number"] is None, r["box_number"] or 0))
    return MonthlyCounts(month, rows, close.fixed_at, day, close.billing)
