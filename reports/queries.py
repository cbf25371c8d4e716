"""Reads of the records the report summarises: ivr's calls and call events, sms's messages.

Only the fields fixed in docs/ARCHITECTURE.md are used. Large reads go by keyset chunks of CHUNK_ROWS
(`WHERE (started_at, id) > last ... LIMIT n`, see call_rows), so memory stays flat on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.public import Call, CallEvent

ONE_DAY = dt.timedelta(days=1)
CHUNK_ROWS = 5000


def as_date(value) -> dt.date:
    """SQLite's date() gives text, PostgreSQL's a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Half-open timestamps covering whole days start..end (an index range, unlike date(column))."""
    return dt.datetime.combine(start, dt.time.min), dt.datetime.combine(end + ONE_DAY, dt.time.min)


@dataclass(frozen=True)
class CallFilter:
    start: dt.date
    end: dt.date
    caller: str = ""      # part of the caller's number
    dialled: str | None = None  # exact dialled number; None: all
    outcome: str | None = None  # one call outcome (completed, abandoned, ...); None: all

    def where(self, resume_at=None):
        """The calls asked for; from `resume_at` on (a keyset page) instead of the first day's start."""
        low, high = day_bounds(self.start, self.end)
        # One lower bound only: given two, SQLite may start the index range at the looser one.
        clause = (Call.started_at >= (low if resume_at is None else resume_at)) & (Call.started_at < high)
        if self.caller:
            clause &= Call.from_number.contains(self.caller)
        if self.dialled is not None:
            clause &= Call.to_number == self.dialled
        if self.outcome is not None:
            clause &= Call.outcome == self.outcome
        return clause


def calls_query(criteria: CallFilter):
    """Calls for the detail list, newest first."""
    return Call.select().where(criteria.where()).order_by(Call.started_at.desc(), Call.id.desc())


def events_by_call(call_ids: list[int]) -> dict[int, list[tuple]]:
    """(kind, node_key, node_name, digits, detail) of each call's events, in the order they happened."""
    out: dict[int, list[tuple]] = {call_id: [] for call_id in call_ids}
    if not call_ids:
        return out
    query = (CallEvent
             .select(CallEvent.call, CallEvent.kind, CallEvent.node_key, CallEvent.node_name, CallEvent.digits,
                     CallEvent.detail)
             .where(CallEvent.call << call_ids)
             .order_by(CallEvent.call, CallEvent.at, CallEvent.id)
             .tuples())
    for call_id, *event in query:
        out[call_id].append(tuple(event))
    return out


def dialled_numbers(since: dt.date | None = None) -> list[str]:
    """Every dialled number that has calls (for the report's number filter); from `since` on only (an index
    range: the days before it are in the published figures, and reading every call kept takes seconds)."""
    query = Call.select(Call.to_number).distinct().order_by(Call.to_number)
    if since is not None:
        query = query.where(Call.started_at >= day_bounds(since, since)[0])
    return [row[0] for row in query.tuples()]
