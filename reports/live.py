"""The live view (速報) of the days not published yet: the latest snapshot's figures plus what is new since it.

A snapshot (models.LiveSnapshot) holds compute_live's figures of every day after a refresh's cutoff, counted when
it was taken: the calls that had ended by then (a finished call, its events and its outcome never change again:
ivr.calls.ended writes them once) and every SMS of those days. A live view adds the calls that came since (ids
after `last_call_id`) or were still going, and counts again the SMS of the days whose messages came or changed
since (a receipt or a click sets `updated_at`): exactly compute_live's figures, counting minutes of records
instead of days.

The 13:00 refresh takes one after it publishes, and the `reports-live-snapshot` job moves it on every few minutes,
each from the one before (counting only what is new since). A snapshot is used only with the cutoff it was taken
for and the flows' PB menus as they were then (a menu's digits count as choices, other nodes' not): after a
flow's nodes change kind, views count from the records until the next snapshot, which counts everything again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter

from peewee import fn

from core.db import write_transaction
from ivr.public import Call, Node
from reports.aggregate import (
    compute_live,
    count_calls,
    count_sms,
    days_with_sms_changed_since,
    load_published,
)
from reports.models import LiveSnapshot
from reports.queries import ONE_DAY, as_date, day_bounds
from reports.summary import Aggregates, each_day
from sms.public import Message

# A call or SMS written this close before a snapshot may still be in a transaction not committed yet (its id then
# already below the snapshot's last id on PostgreSQL): the snapshot leaves such calls to the views, and counts the
# SMS changed from then on again.
MARGIN = dt.timedelta(minutes=10)
LAST_DAY = dt.date(9999, 12, 30)  # "every day after the cutoff"
TABLES = ("abandons", "choices", "abandon_places", "hours")  # Aggregates.tables(), in order


def compute_current(start: dt.date, end: dt.date, dialled: str | None, published_through: dt.date | None,
                    published_at: dt.datetime | None) -> Aggregates:
    """compute_live's figures in a fraction of the time: the days the last refresh published are read from what it
    stored (a past day's calls are finished), their SMS counted again where they changed since; the days after it
    are the live snapshot's figures plus what is new since it."""
    if published_through is None or published_at is None:
        return compute_live(start, end, dialled)
    out = Aggregates()
    if published_through >= start:
        stored_end = min(end, published_through)
        out = load_published(start, stored_end, dialled)
        recount_sms(out, days_with_sms_changed_since(published_at, start, stored_end), dialled)
    if end > published_through:
        out.add(live_days(max(start, published_through + ONE_DAY), end, dialled, published_through))
    return out


def live_days(start: dt.date, end: dt.date, dialled: str | None, cutoff: dt.date) -> Aggregates:
    """compute_live(start, end, dialled) for days after `cutoff`: from the latest snapshot when it fits."""
    snapshot = latest_snapshot()
    if not fits(snapshot, cutoff, menus_digest()):
        return compute_live(start, end, dialled)
    out = load_figures(snapshot.figures).between(start, end).only(dialled)
    count_calls(out, by_id(start, end, dialled) & counted_after(snapshot))
    recount_sms(out, sms_changed_days(snapshot, start, end), dialled)
    return out


def fits(snapshot: LiveSnapshot | None, cutoff: dt.date, menus: str) -> bool:
    """Whether the snapshot's figures hold for the days after `cutoff`, with the menus (digest) as they are."""
    return snapshot is not None and snapshot.cutoff <= cutoff and snapshot.menus == menus


def latest_snapshot() -> LiveSnapshot | None:
    return LiveSnapshot.select().order_by(LiveSnapshot.id.desc()).first()


def menus_digest() -> str:
    """The flows' PB menu nodes, as a digest: whose digits count as choices (aggregate._add_choices)."""
    menus = Node.select(Node.flow, Node.key).where(Node.kind == "menu").order_by(Node.flow, Node.key).tuples()
    return hashlib.sha256(json.dumps([list(row) for row in menus]).encode()).hexdigest()


def by_id(start: dt.date, end: dt.date, dialled: str | None):
    """call_range, tested on an expression: the planner walks the ids after the snapshot's (a few minutes of calls)
    instead of every call of the days."""
    low, high = day_bounds(start, end)
    started = fn.COALESCE(Call.started_at, low)
    clause = (started >= low) & (started < high)
    if dialled is not None:
        clause &= Call.to_number == dialled
    return clause


def counted_after(snapshot: LiveSnapshot):
    """The calls the snapshot did not count: those after it, and those still going then."""
    going = json.loads(snapshot.going)
    clause = Call.id > snapshot.last_call_id
    return (clause | Call.id.in_(going)) if going else clause


def sms_changed_days(snapshot: LiveSnapshot, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days of start..end with SMS sent or changed since the snapshot."""
    low, high = day_bounds(start, end)
    created = fn.COALESCE(Message.created_at, low)  # found by id and by change, not by every message of the days
    query = (Message.select(fn.DATE(Message.created_at)).distinct()
             .where(((Message.updated_at >= snapshot.changed_since) | (Message.id > snapshot.last_message_id))
                    & (created >= low) & (created < high))
             .tuples())
    return sorted(as_date(day) for (day,) in query)


def recount_sms(out: Aggregates, days: list[dt.date], dialled: str | None) -> None:
    """The SMS counters of `days` counted again from the messages (their call figures kept)."""
    for first, last in runs(days):
        counted = count_sms(first, last, dialled)
        for day in each_day(first, last):
            out.take_sms_of(counted, day)


def runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs: one count per run instead of one per day."""
    out: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if out and out[-1][1] + ONE_DAY == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def take_snapshot(cutoff: dt.date, now: dt.datetime) -> LiveSnapshot:
    """Count the days after `cutoff` as they are at `now` and store that as the latest snapshot: from the previous
    snapshot when it fits (only what came or changed since it is counted), else from every record."""
    first = cutoff + ONE_DAY
    low = day_bounds(first, first)[0]
    since = now - MARGIN
    menus = menus_digest()
    previous = latest_snapshot()
    last_call_id = (Call.select(fn.MAX(Call.id)).where((Call.started_at >= low) & (Call.started_at < since)).scalar()
                    or 0)
    last_message_id = Message.select(fn.MAX(Message.id)).scalar() or 0
    if fits(previous, cutoff, menus):
        figures = load_figures(previous.figures).between(first, LAST_DAY)
        new = ((Call.id > previous.last_call_id) & (Call.id <= last_call_id)) | Call.id.in_(json.loads(previous.going))
        new &= by_id(first, LAST_DAY, None)
        last_call_id = max(last_call_id, previous.last_call_id)  # its figures count the calls up to its own
        going = [row[0] for row in Call.select(Call.id).where(new & Call.ended_at.is_null()).tuples()]
        count_calls(figures, new & not_among(going))
        recount_sms(figures, sms_changed_days(previous, first, LAST_DAY), None)
    else:
        figures = Aggregates()
        upto = (Call.started_at >= low) & (Call.id <= last_call_id)
        going = [row[0] for row in Call.select(Call.id).where(upto & Call.ended_at.is_null()).tuples()]
        count_calls(figures, upto & not_among(going))
        figures.add(count_sms(first, LAST_DAY))
    snapshot = LiveSnapshot(taken_at=now, cutoff=cutoff, last_call_id=last_call_id, going=json.dumps(going),
                            last_message_id=last_message_id, changed_since=since, menus=menus,
                            figures=dump_figures(figures))
    with write_transaction():
        newer = LiveSnapshot.select().where(LiveSnapshot.cutoff > cutoff).exists()
        if not newer:  # a refresh published meanwhile and took its own: this one is of the days before
            snapshot.save()
            LiveSnapshot.delete().where(LiveSnapshot.id != snapshot.id).execute()
    return snapshot


def not_among(ids: list[int]):
    return Call.id.not_in(ids) if ids else Call.id.is_null(False)


def dump_figures(aggregates: Aggregates) -> str:
    return json.dumps({
        "stats": [[day.isoformat(), *key, dict(counts)] for (day, *key), counts in aggregates.stats.items()],
        **{name: [[day.isoformat(), *key, count] for (day, *key), count in table.items()]
           for name, table in zip(TABLES, aggregates.tables())},
    }, ensure_ascii=False)


def load_figures(text: str) -> Aggregates:
    data = json.loads(text)
    out = Aggregates()
    for day, *key, counts in data.get("stats", []):
        out.stats[(dt.date.fromisoformat(day), *key)] = Counter(counts)
    for name, table in zip(TABLES, out.tables()):
        for day, *key, count in data.get(name, []):
            table[(dt.date.fromisoformat(day), *key)] = count
    return out
