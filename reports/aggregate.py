"""Daily aggregates: computed live from calls, events and messages; published into the report tables.

A call counts on the day it started; its digits and its SMS count with the number it dialled.
SMS sent outside a call (API, bulk sends, the UI) count under the empty dialled number.
A published day keeps its call figures (the 13:00 rule): publishing it again, because its SMS changed, counts
only its SMS again (`republish_sms`), so a call record carried over by a migration never changes a shown figure.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, Case, fn

from core.db import is_postgres, write_transaction
from ivr.public import Call, CallEvent, Node
from reports.call_rows import store_paths
from reports.models import AGGREGATE_MODELS, NO_CALL, DailyAbandon, DailyChoice, DailyHour, DailyStat
from reports.queries import as_date, day_bounds
from reports.summary import (
    CHOICE_KINDS,
    OUTCOME_COUNTERS,
    SMS_STATE_COUNTERS,
    STORED_COUNTERS,
    Aggregates,
    each_day,
)
from sms.public import Message


def compute_live(start: dt.date, end: dt.date, dialled: str | None = None) -> Aggregates:
    """Counts for start..end straight from the records (what publishing stores; the live view's figures equal it)."""
    out = Aggregates()
    count_calls(out, call_range(start, end, dialled))
    out.add(count_sms(start, end, dialled))
    return out


def call_range(start: dt.date, end: dt.date, dialled: str | None = None):
    """The calls started start..end (to the dialled number, unless None)."""
    low, high = day_bounds(start, end)
    clause = (Call.started_at >= low) & (Call.started_at < high)
    if dialled is not None:
        clause &= Call.to_number == dialled
    return clause


def count_calls(out: Aggregates, which) -> None:
    """Add the call figures (outcomes, abandons, menu choices, hours) of the calls `which` (a where clause) to `out`."""
    _add_calls(out, which)
    _add_abandons(out, which)
    _add_choices(out, which)
    _add_hours(out, which)


def _add_calls(out: Aggregates, which) -> None:
    day = fn.DATE(Call.started_at)
    legacy = fn.SUM(Case(None, [(Call.timeline.is_null(), 1)], 0))
    query = (Call.select(day, Call.to_number, Call.outcome, fn.COUNT(Call.id), fn.SUM(Call.duration_seconds), legacy)
             .where(which)
             .group_by(day, Call.to_number, Call.outcome).tuples())
    for day_value, number, outcome, count, seconds, recorded_before in query:
        counts = out.stats[(as_date(day_value), number or NO_CALL)]
        counts["calls"] += count
        counts["duration_seconds"] += int(seconds or 0)
        counts["legacy_calls"] += int(recorded_before or 0)
        if outcome in OUTCOME_COUNTERS:
            counts[OUTCOME_COUNTERS[outcome]] += count


def _add_abandons(out: Aggregates, which) -> None:
    day = fn.DATE(Call.started_at)
    query = (Call.select(day, Call.to_number, Call.abandoned_node_key, Call.abandoned_node_name, Call.abandoned_part,
                         Call.abandoned_guidance_name, fn.COUNT(Call.id))
             # COALESCE: the outcome's index must not be used (SQLite would, and read every abandoned call kept)
             .where(which & (fn.COALESCE(Call.outcome, "") == "abandoned"))
             .group_by(day, Call.to_number, Call.abandoned_node_key, Call.abandoned_node_name, Call.abandoned_part,
                       Call.abandoned_guidance_name).tuples())
    for day_value, number, node_key, node_name, part, guidance_name, count in query:
        menu = (as_date(day_value), number or NO_CALL, node_key or "", node_name or "")
        out.abandons[menu] += count
        out.abandon_places[(*menu, part or "", guidance_name or "")] += count


def hour_of(column):
    """The hour (0–23) of a stored local time, in the database's own words."""
    if is_postgres():
        return fn.DATE_PART("hour", column).cast("INTEGER")
    return fn.STRFTIME("%H", column).cast("INTEGER")


def _add_hours(out: Aggregates, which) -> None:
    day, hour = fn.DATE(Call.started_at), hour_of(Call.started_at)
    abandoned = fn.SUM(Case(None, [(Call.outcome == "abandoned", 1)], 0))
    query = (Call.select(day, Call.to_number, hour, fn.COUNT(Call.id), abandoned)
             .where(which)
             .group_by(day, Call.to_number, hour).tuples())
    for day_value, number, hour_value, calls, abandoned_calls in query:
        key = (as_date(day_value), number or NO_CALL, int(hour_value))
        out.hours[(*key, "calls")] += calls
        out.hours[(*key, "abandoned")] += int(abandoned_calls or 0)


def _add_choices(out: Aggregates, which) -> None:
    # PB menus only: the SMS node's number hearing also records digits, but those are callers'
    # mobile numbers, not choices (and must not end up in a report table).
    day = fn.DATE(Call.started_at)
    query = (CallEvent
             .select(day, Call.to_number, CallEvent.node_key, CallEvent.node_name, CallEvent.kind, CallEvent.digits,
                     fn.COUNT(CallEvent.id))
             .join(Call)
             .join(Node, on=(Node.flow == Call.flow) & (Node.key == CallEvent.node_key))
             # The calls' ids again, as a list: so SQLite reads the events of those calls by their index, not
             # every event kept (it would, for a few minutes of calls picked by id)
             .where(which & CallEvent.kind.in_(CHOICE_KINDS) & (Node.kind == "menu")
                    & CallEvent.call.in_(Call.select(Call.id).where(which)))
             .group_by(day, Call.to_number, CallEvent.node_key, CallEvent.node_name, CallEvent.kind, CallEvent.digits)
             .tuples())
    for day_value, number, node_key, node_name, kind, digits, count in query:
        out.choices[(as_date(day_value), number or NO_CALL, node_key or "", node_name or "", kind, digits or "")] += count


def count_sms(start: dt.date, end: dt.date, dialled: str | None = None) -> Aggregates:
    """The SMS counters of the messages created start..end (by the number of the call they came from)."""
    out = Aggregates()
    low, high = day_bounds(start, end)
    day = fn.DATE(Message.created_at)
    clicked = fn.SUM(Case(None, [(Message.clicks > 0, 1)], 0))
    query = (Message.select(day, Call.to_number, Message.state, fn.COUNT(Message.id), clicked)
             .join(Call, JOIN.LEFT_OUTER, on=(Call.call_sid == Message.call_sid))
             .where((Message.created_at >= low) & (Message.created_at < high)))
    if dialled == NO_CALL:
        query = query.where(Call.id.is_null())
    elif dialled is not None:
        query = query.where(Call.to_number == dialled)
    query = query.group_by(day, Call.to_number, Message.state).tuples()
    for day_value, number, state, count, clicks in query:
        counts = out.stats[(as_date(day_value), number or NO_CALL)]
        counts["sms_sent"] += count
        counts[SMS_STATE_COUNTERS.get(state, "sms_other")] += count
        counts["sms_clicked"] += int(clicks or 0)
    return out


def load_published(start: dt.date, end: dt.date, dialled: str | None = None) -> Aggregates:
    """What the refreshes published for start..end (plain tuples: a model instance per row would be most of the
    live view's time)."""
    out = Aggregates()
    keys = {DailyStat: ("dialled",), DailyAbandon: ("dialled", "node_key", "node_name", "part", "guidance_name"),
            DailyChoice: ("dialled", "node_key", "node_name", "kind", "digits"), DailyHour: ("dialled", "hour")}
    for model in AGGREGATE_MODELS:
        values = {DailyStat: STORED_COUNTERS, DailyHour: ("calls", "abandoned")}.get(model, ("count",))
        columns = [model.day, *(getattr(model, name) for name in keys[model] + values)]
        query = model.select(*columns).where(model.day.between(start, end))
        if dialled is not None:
            query = query.where(model.dialled == dialled)
        width = 1 + len(keys[model])
        for row in query.tuples():
            key = (as_date(row[0]), *row[1:width])
            if model is DailyStat:
                out.stats[key].update(dict(zip(STORED_COUNTERS, row[width:])))
            elif model is DailyAbandon:
                out.abandons[key[:4]] += row[width]
                out.abandon_places[key] += row[width]
            elif model is DailyHour:
                out.hours[(*key, "calls")] += row[width]
                out.hours[(*key, "abandoned")] += row[width + 1]
            else:
                out.choices[key] += row[width]
    return out


def publish(start: dt.date, end: dt.date) -> int:
    """Store the aggregates and call paths of start..end, replacing what was there, one short write transaction per
    day (on SQLite it takes the write lock at BEGIN: a transaction that reads first and then writes would fail with
    "database is locked" when another connection wrote meanwhile)."""
    if end < start:
        return 0
    aggregates = compute_live(start, end)
    for day in each_day(start, end):
        with write_transaction():
            for model in AGGREGATE_MODELS:
                model.delete().where(model.day == day).execute()
            _insert_day(aggregates, day)
            store_paths(*day_bounds(day, day))
    return (end - start).days + 1


def republish_sms(day: dt.date) -> None:
    """Publish a shown day again for its SMS (receipts and clicks come late); its call figures stay as published."""
    published = load_published(day, day)
    published.take_sms_of(count_sms(day, day), day)
    with write_transaction():
        for model in AGGREGATE_MODELS:
            model.delete().where(model.day == day).execute()
        _insert_day(published, day)
        store_paths(*day_bounds(day, day))


def days_with_sms_changed_since(since: dt.datetime, start: dt.date, end: dt.date) -> list[dt.date]:
    """The days of start..end whose SMS changed after `since`: a delivery receipt or a click on the short link
    can come days after the message (and after its day was published)."""
    low, high = day_bounds(start, end)
    # Found by when they changed (index of migration 0018): few change after their day was published. The
    # creation range is tested on an expression, so no planner reads every message of the range instead.
    created = fn.COALESCE(Message.created_at, low)
    query = (Message.select(fn.DATE(Message.created_at)).distinct()
             .where((Message.updated_at > since) & (created >= low) & (created < high))
             .tuples())
    return sorted(as_date(day) for (day,) in query)


def _insert_day(aggregates: Aggregates, day: dt.date) -> None:
    stats = [{"day": day, "dialled": dialled, **{name: counts[name] for name in STORED_COUNTERS}}
             for (stat_day, dialled), counts in aggregates.stats.items() if stat_day == day]
    abandons = [{"day": day, "dialled": dialled, "node_key": key, "node_name": name, "part": part,
                 "guidance_name": guidance_name, "count": count}
                for (d, dialled, key, name, part, guidance_name), count in aggregates.abandon_places.items()
                if d == day]
    choices = [{"day": day, "dialled": dialled, "node_key": key, "node_name": name, "kind": kind, "digits": digits,
                "count": count}
               for (d, dialled, key, name, kind, digits), count in aggregates.choices.items() if d == day]
    hours = [{"day": day, "dialled": dialled, "hour": hour, "calls": aggregates.hours[(d, dialled, hour, "calls")],
              "abandoned": aggregates.hours[(d, dialled, hour, "abandoned")]}
             for (d, dialled, hour, counter) in list(aggregates.hours) if d == day and counter == "calls"]
    for model, rows in ((DailyStat, stats), (DailyAbandon, abandons), (DailyChoice, choices), (DailyHour, hours)):
        for start in range(0, len(rows), 500):
            model.insert_many(rows[start:start + 500]).execute()
