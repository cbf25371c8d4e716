"""The live view's days not published yet, counted once: each day's figures are kept (per process) with a
fingerprint of its records, and counted again only when the fingerprint changed.

A day is kept once every call of it has ended (a finished call, its events and its outcome no longer change);
its SMS are part of the fingerprint (a receipt or a click changes `updated_at`). So a view reads what the
13:00 refreshes published, reuses the days it counted before, and counts only the days that changed: today
(calls still coming in) and a day whose SMS changed since. The result is exactly compute_live's.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

from flask import current_app
from peewee import Case, fn

from ivr.public import Call
from reports.queries import as_date, day_bounds
from reports.summary import SMS_STATE_COUNTERS, Aggregates, each_day
from sms.public import Message

CACHE_DAYS = 400  # (day, number filter) entries kept per process: a year of days and then some, a few MB at most
_lock = threading.Lock()


def day_fingerprints(start: dt.date, end: dt.date, dialled: str | None) -> dict[dt.date, tuple]:
    """Per day with records: (calls, last call id, calls ended, last end, then of the SMS: how many, last id,
    last change, how many clicked, how many in each counted state)."""
    low, high = day_bounds(start, end)
    calls_where = (Call.started_at >= low) & (Call.started_at < high)
    if dialled is not None:
        calls_where &= Call.to_number == dialled
    day = fn.DATE(Call.started_at)
    out: dict[dt.date, tuple] = {}
    for value, count, last_id, ended, last_end in (
            Call.select(day, fn.COUNT(Call.id), fn.MAX(Call.id), fn.COUNT(Call.ended_at), fn.MAX(Call.ended_at))
            .where(calls_where).group_by(day).tuples()):
        out[as_date(value)] = (count, last_id, ended, str(last_end))
    day = fn.DATE(Message.created_at)
    # What the SMS counters read (states counted apart, clicks), besides when they last changed: two changes
    # within one clock tick leave `updated_at` as it was.
    counted = [fn.SUM(Case(None, [(Message.state == state, 1)], 0)) for state in sorted(SMS_STATE_COUNTERS)]
    clicked = fn.SUM(Case(None, [(Message.clicks > 0, 1)], 0))
    for value, *sms in (
            Message.select(day, fn.COUNT(Message.id), fn.MAX(Message.id), fn.MAX(Message.updated_at), clicked,
                           *counted)
            .where((Message.created_at >= low) & (Message.created_at < high)).group_by(day).tuples()):
        calls = out.get(as_date(value), (0, None, 0, None))[:4]
        out[as_date(value)] = (*calls, *(str(v) for v in sms))
    return out


def is_finished(fingerprint: tuple) -> bool:
    calls, _, ended, *_ = fingerprint
    return calls == ended


def only_day(aggregates: Aggregates, day: dt.date) -> Aggregates:
    kept = Aggregates()
    kept.stats.update({k: v for k, v in aggregates.stats.items() if k[0] == day})
    for mine, theirs in zip(kept.tables(), aggregates.tables()):
        mine.update({k: v for k, v in theirs.items() if k[0] == day})
    return kept


def runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs: one count per run instead of one per day."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if out and out[-1][1] + dt.timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _cache() -> OrderedDict:
    return current_app.extensions.setdefault("reports_live_days", OrderedDict())


def live_days(start: dt.date, end: dt.date, dialled: str | None, compute) -> Aggregates:
    """compute(start, end, dialled)'s figures for start..end, counting only the days whose records changed since
    this process last counted them (`compute` is aggregate.compute_live)."""
    fingerprints = day_fingerprints(start, end, dialled)
    cache = _cache()
    out = Aggregates()
    stale = []
    with _lock:
        for day in each_day(start, end):
            fingerprint = fingerprints.get(day)
            if fingerprint is None:
                continue  # nothing recorded that day
            hit = cache.get((day, dialled))
            if hit is not None and hit[0] == fingerprint:
                cache.move_to_end((day, dialled))
                out.add(hit[1])
            else:
                stale.append(day)
    for first, last in runs(stale):
        counted = compute(first, last, dialled)
        out.add(counted)
        keep(cache, counted, list(each_day(first, last)), fingerprints, dialled)
    return out


def keep(cache: OrderedDict, counted: Aggregates, days: list[dt.date], fingerprints: dict, dialled) -> None:
    with _lock:
        for day in days:
            if day in fingerprints and is_finished(fingerprints[day]):
                cache[(day, dialled)] = (fingerprints[day], only_day(counted, day))
                cache.move_to_end((day, dialled))
        while len(cache) > CACHE_DAYS:
            cache.popitem(last=False)


def forget() -> None:
    """Drop what this process kept (tests; a flow's menus changed kinds)."""
    with _lock:
        _cache().clear()
