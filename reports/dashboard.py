"""reports' tiles of the home page: today's and yesterday's calls counted live (速報値), and the next refresh.

Each day's calls are one GROUP BY over the indexed `started_at` range of that day. The outcomes shown are
CALL_OUTCOMES (every one, zeros included, so the rows stay put) and any other outcome the data has.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter

from peewee import fn

from core.calendar import calendar_for
from core.dashboard import (
    DashboardDay,
    TileBody,
    daily_line,
    date_time_label,
    format_count,
    format_rate,
    register_tile,
    short_date,
    single_line,
)
from ivr.models import Call
from reports.jobs import refresh_rule, refresh_status
from reports.queries import day_bounds
from reports.refresh import cutoff_for_refresh_day, visible_from
from reports.summary import CALL_OUTCOMES, outcome_label

IN_PROGRESS = None  # Call.outcome while the call goes on


def register(app) -> None:
    register_tile(app, "calls", "着信", calls_tile, role="staff", order=10)
    register_tile(app, "refresh", "レポートの公開", refresh_tile, role="manager", order=50)


def outcome_counts(day: dt.date) -> Counter:
    """Calls started on `day` by outcome (None: still going on)."""
    low, high = day_bounds(day, day)
    query = (Call.select(Call.outcome, fn.COUNT(Call.id))
             .where((Call.started_at >= low) & (Call.started_at < high))
             .group_by(Call.outcome).tuples())
    return Counter(dict(query))


def live_range(day: dt.date) -> dict:
    """The report's arguments for one day, counted live (速報)."""
    return {"mode": "live", "from": day, "to": day}


def calls_tile(day: DashboardDay) -> TileBody:
    counts = {d: outcome_counts(d) for d in day.days}
    totals = {d: sum(counts[d].values()) for d in day.days}
    found = {outcome for per_day in counts.values() for outcome in per_day}
    others = sorted(outcome for outcome in found if outcome is not IN_PROGRESS and outcome not in CALL_OUTCOMES)
    lines = [
        daily_line("着信数", day, lambda d: format_count(totals[d]), key="calls",
                   endpoint="reports.calls", args_for=live_range),
        daily_line("途中放棄率", day, lambda d: format_rate(counts[d]["abandoned"], totals[d]), key="abandon-rate",
                   endpoint="reports.index", args_for=live_range),
    ]
    for outcome in (*CALL_OUTCOMES, *others):
        lines.append(daily_line(
            outcome_label(outcome), day, lambda d, o=outcome: format_count(counts[d][o]), key=f"outcome-{outcome}",
            endpoint="reports.calls" if outcome in CALL_OUTCOMES else None,
            args_for=lambda d, o=outcome: {**live_range(d), "outcome": o}))
    if IN_PROGRESS in found:
        lines.append(daily_line(outcome_label(IN_PROGRESS), day, lambda d: format_count(counts[d][IN_PROGRESS]),
                                key="outcome-in-progress", endpoint="reports.calls", args_for=live_range))
    return TileBody(tuple(lines), columns=day.columns,
                    notes=("途中放棄率は、着信数のうち途中放棄した通話の割合です。",))


def refresh_tile(day: DashboardDay) -> TileBody:
    """When the report is refreshed next, which days that makes public, and when today's and yesterday's are."""
    calendar = calendar_for(day.today)
    rule = refresh_rule()
    status = refresh_status(day.now, calendar)
    next_through = cutoff_for_refresh_day(status.next_at.date(), calendar, rule)

    def published_at(of_day: dt.date) -> str:
        return date_time_label(dt.datetime.combine(visible_from(of_day, calendar, rule), rule.refresh_time))

    return TileBody((
        single_line("次回の更新", date_time_label(status.next_at), key="next-refresh", endpoint="reports.index"),
        single_line("次回公開される日", newly_published(status.cutoff, next_through), key="next-publishes",
                    endpoint="reports.index"),
        single_line("公開済み", published_so_far(status), key="published", endpoint="reports.index"),
        single_line("今日の分の公開", published_at(day.today), key="today-published-at", endpoint="reports.index",
                    args=live_range(day.today)),
        single_line("昨日の分の公開", published_at(day.yesterday), key="yesterday-published-at",
                    endpoint="reports.index", args=live_range(day.yesterday)),
    ), notes=(f"レポートは営業日の {rule.refresh_time:%H:%M} の更新で、{rule.lag_business_days}営業日前までの分が"
              "公開されます。",))


def newly_published(published_through: dt.date | None, next_through: dt.date) -> str:
    if published_through is None:
        return f"{short_date(next_through)} 分まで"
    if next_through <= published_through:
        return "新しく公開される日はありません"
    first = published_through + dt.timedelta(days=1)
    if first == next_through:
        return f"{short_date(first)} 分"
    return f"{short_date(first)}〜{short_date(next_through)} 分"


def published_so_far(status) -> str:
    if status.cutoff is None:
        return "まだ更新されていません"
    return f"{short_date(status.cutoff)} 分まで"
