"""sms's tile of the home page: today's and yesterday's SMS by delivery state, and how many were clicked.

One GROUP BY over the indexed `created_at` range of each day.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from peewee import Case, fn

from core.dashboard import (
    DashboardDay,
    TileBody,
    daily_line,
    day_span,
    format_count,
    format_rate,
    register_tile,
)
from sms.models import Message

SHOWN_STATES = (("delivered", "送達"), ("failed", "配信失敗"))


@dataclass(frozen=True)
class DaySms:
    by_state: Counter
    clicked: int  # messages whose short link was followed at least once

    @property
    def sent(self) -> int:
        return sum(self.by_state.values())

    @property
    def in_flight(self) -> int:
        """Not final yet, or final without a result (送信待ち, 配信中, 失敗再送, 状態不明)."""
        return self.sent - sum(self.by_state[state] for state, _ in SHOWN_STATES)


def register(app) -> None:
    register_tile(app, "sms", "SMS", sms_tile, role="manager", order=20)


def day_sms(day: dt.date) -> DaySms:
    low, high = day_span(day)
    clicked = fn.SUM(Case(None, [(Message.clicks > 0, 1)], 0))
    query = (Message.select(Message.state, fn.COUNT(Message.id), clicked)
             .where((Message.created_at >= low) & (Message.created_at < high))
             .group_by(Message.state).tuples())
    by_state, clicks = Counter(), 0
    for state, count, state_clicks in query:
        by_state[state] += count
        clicks += int(state_clicks or 0)
    return DaySms(by_state, clicks)


def log_filter(day: dt.date, state: str | None = None) -> dict:
    """The delivery log's arguments for one day (and one state)."""
    return {"date_from": day, "date_to": day, **({"state": state} if state else {})}


def sms_tile(day: DashboardDay) -> TileBody:
    figures = {d: day_sms(d) for d in day.days}
    lines = [daily_line("送信", day, lambda d: format_count(figures[d].sent, "件"), key="sms-sent",
                        endpoint="sms.log", args_for=log_filter)]
    for state, label in SHOWN_STATES:
        lines.append(daily_line(label, day, lambda d, s=state: format_count(figures[d].by_state[s], "件"),
                                key=f"sms-{state}", endpoint="sms.log",
                                args_for=lambda d, s=state: log_filter(d, s)))
    lines.append(daily_line("配信中・状態不明", day, lambda d: format_count(figures[d].in_flight, "件"),
                            key="sms-in-flight", endpoint="sms.log", args_for=log_filter))
    lines.append(daily_line("クリック率", day, lambda d: format_rate(figures[d].clicked, figures[d].sent),
                            key="sms-click-rate", endpoint="sms.log", args_for=log_filter))
    return TileBody(tuple(lines), columns=day.columns,
                    notes=("クリック率は、送信した SMS のうち URL が1回以上開かれたものの割合です。",))
