"""Pure decisions of delivery: quiet hours, the wait before a retry, when a destination is paused.

Quiet hours 21:00–08:00 (across midnight) hold a notification due at 23:10 until 08:00 the next morning;
08:00–08:00 (start equal to end) or an empty field means none. Retries wait 30 s, 2 min, 8 min, … (x4), at
most an hour. A destination is paused after `pause_after` failed attempts in a row, whichever deliveries.
"""
from __future__ import annotations

import datetime as dt

FIRST_RETRY = dt.timedelta(seconds=30)
RETRY_FACTOR = 4
LONGEST_RETRY = dt.timedelta(hours=1)


def parse_clock(value: str) -> dt.time | None:
    """"HH:MM" → time; empty or malformed → None."""
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        return dt.time(hours, minutes)
    except (ValueError, AttributeError):
        return None


def quiet_until(now: dt.datetime, start: str, end: str) -> dt.datetime | None:
    """The end of the quiet hours `now` falls in, or None when it falls in none."""
    begin, finish = parse_clock(start), parse_clock(end)
    if begin is None or finish is None or begin == finish:
        return None
    at = now.time()
    if begin < finish:  # within one day: 12:00–13:00
        inside = begin <= at < finish
        return dt.datetime.combine(now.date(), finish) if inside else None
    if at >= begin:  # across midnight, evening side: ends tomorrow
        return dt.datetime.combine(now.date() + dt.timedelta(days=1), finish)
    if at < finish:  # across midnight, morning side
        return dt.datetime.combine(now.date(), finish)
    return None


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt (1-based)."""
    delay = FIRST_RETRY * (RETRY_FACTOR ** max(0, attempts - 1))
    return min(delay, LONGEST_RETRY)


def gives_up(attempts: int, max_attempts: int) -> bool:
    return attempts >= max_attempts


def pauses(consecutive_failures: int, pause_after: int) -> bool:
    return consecutive_failures >= pause_after
