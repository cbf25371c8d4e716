"""One replaceable clock for every time-based decision.

All datetimes in this platform are naive wall-clock times in Asia/Tokyo (JST has no daylight
saving time, so naive local times sort and subtract correctly and a "day" in the report is a
Japanese calendar day). Tests install a FakeClock through `use_clock`.
"""
from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

TOKYO = ZoneInfo("Asia/Tokyo")


class SystemClock:
    """The real time in Tokyo."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(TOKYO).replace(tzinfo=None)


class FakeClock:
    """A clock that only moves when told to (tests, simulations)."""

    def __init__(self, start: dt.datetime | str = "2026-01-05 09:00:00"):
        self._lock = threading.Lock()
        self._now = _parse(start)

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def set(self, when: dt.datetime | str) -> None:
        with self._lock:
            self._now = _parse(when)

    def advance(self, **delta) -> dt.datetime:
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now


def _parse(when: dt.datetime | str) -> dt.datetime:
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when)
    if when.tzinfo is not None:
        when = when.astimezone(TOKYO).replace(tzinfo=None)
    return when


_current: SystemClock | FakeClock = SystemClock()


def use_clock(clock: SystemClock | FakeClock) -> None:
    """Install the clock every later `now()` reads."""
    global _current
    _current = clock


def current_clock() -> SystemClock | FakeClock:
    return _current


def now() -> dt.datetime:
    """Naive wall-clock time in Tokyo."""
    return _current.now()


def today() -> dt.date:
    return _current.now().date()


def from_aware(moment: dt.datetime) -> dt.datetime:
    """Any aware datetime as naive Tokyo wall-clock time."""
    return _parse(moment)
