"""The home page's figures (the dashboard): a registry of tiles that feature packages fill from `init_app`.

core knows no feature: each package registers the tiles it owns, and their builders run that package's own
queries (cheap ones: an indexed range over today and yesterday, a count on an indexed status).

    register_tile(app, "calls", "着信", build_calls, role="staff", order=10)

    def build_calls(day: DashboardDay) -> TileBody:
        counts = {d: count_calls(d) for d in day.days}
        return TileBody(columns=day.columns, lines=(
            daily_line("着信数", day, lambda d: format_count(counts[d]),
                       endpoint="reports.calls", args_for=lambda d: {"from": d, "to": d}),))

`role` is the least role that sees the tile. A figure's link is shown only to users who may open its page
(the `minimum_role` that `core.security.role_required` puts on the view), so no tile has to know roles.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, url_for

from core import clock
from core.calendar import weekday_label

log = logging.getLogger("core.dashboard")
EXTENSION_KEY = "dashboard_tiles"
NOT_AVAILABLE = "—"
TILE_FAILED = "この項目は表示できませんでした。時間をおいて再読み込みしてください。"


@dataclass(frozen=True)
class Cell:
    """One figure as shown, and the page it opens (endpoint and query arguments; dates become YYYY-MM-DD)."""

    text: str
    endpoint: str | None = None
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Line:
    """A labelled row of a tile: one cell, or one cell per column."""

    label: str
    cells: tuple[Cell, ...]
    key: str = ""  # stable name of the row (page anchors and tests)


@dataclass(frozen=True)
class TileBody:
    lines: tuple[Line, ...]
    columns: tuple[str, ...] = ()  # headings over the cells (e.g. today, yesterday); none for single figures
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DashboardDay:
    """The moment the page is built, and the days its per-day figures are for (today first)."""

    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return self.now.date()

    @property
    def yesterday(self) -> dt.date:
        return self.today - dt.timedelta(days=1)

    @property
    def days(self) -> tuple[dt.date, dt.date]:
        return self.today, self.yesterday

    @property
    def columns(self) -> tuple[str, str]:
        return (f"今日 {short_date(self.today)}", f"昨日 {short_date(self.yesterday)}")


TileBuilder = Callable[[DashboardDay], TileBody]


@dataclass(frozen=True)
class TileSpec:
    key: str
    title: str
    build: TileBuilder
    role: str = "staff"
    order: int = 100


@dataclass(frozen=True)
class ShownCell:
    text: str
    url: str | None


@dataclass(frozen=True)
class ShownLine:
    label: str
    key: str
    cells: tuple[ShownCell, ...]


@dataclass(frozen=True)
class ShownTile:
    """A tile as one user sees it: links resolved to URLs, or left out where the user may not open the page."""

    key: str
    title: str
    lines: tuple[ShownLine, ...]
    columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    failed: bool = False


def register_tile(app: Flask, key: str, title: str, build: TileBuilder, *, role: str = "staff",
                  order: int = 100) -> None:
    """Add (or replace, by key) a tile of the home page, seen by users of `role` or above, ordered by `order`."""
    app.extensions.setdefault(EXTENSION_KEY, {})[key] = TileSpec(key, title, build, role, order)


def registered_tiles(app: Flask) -> list[TileSpec]:
    return sorted(app.extensions.get(EXTENSION_KEY, {}).values(), key=lambda spec: (spec.order, spec.key))


def tiles_for(app: Flask, user, now: dt.datetime | None = None) -> list[ShownTile]:
    """The tiles `user` sees, built now; a tile whose builder fails is shown as not available, not as a 500."""
    day = DashboardDay(now or clock.now())
    shown = []
    for spec in registered_tiles(app):
        if not user.has_role(spec.role):
            continue
        try:
            body = spec.build(day)
        except Exception:
            log.exception("dashboard tile %s failed", spec.key)
            shown.append(ShownTile(spec.key, spec.title, (), notes=(TILE_FAILED,), failed=True))
            continue
        shown.append(ShownTile(spec.key, spec.title, tuple(show_line(app, user, line) for line in body.lines),
                               body.columns, body.notes))
    return shown


def show_line(app: Flask, user, line: Line) -> ShownLine:
    return ShownLine(line.label, line.key, tuple(ShownCell(cell.text, link_for(app, user, cell)) for cell in line.cells))


def link_for(app: Flask, user, cell: Cell) -> str | None:
    if cell.endpoint is None or not may_open(app, user, cell.endpoint):
        return None
    return url_for(cell.endpoint, **{name: as_query_value(value) for name, value in cell.args.items()})


def may_open(app: Flask, user, endpoint: str) -> bool:
    """Whether the page exists and the user's role may open it (views without role_required: any user)."""
    view = app.view_functions.get(endpoint)
    return view is not None and user.has_role(getattr(view, "minimum_role", "staff"))


def as_query_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


# --- helpers for builders ------------------------------------------------------------------------------------------
def daily_line(label: str, day: DashboardDay, value_for: Callable[[dt.date], str], *, key: str = "",
               endpoint: str | None = None, args_for: Callable[[dt.date], Mapping[str, Any]] | None = None) -> Line:
    """A row with one cell per day of `day.days`, each linked to `endpoint` with that day's arguments."""
    cells = tuple(Cell(value_for(d), endpoint, args_for(d) if args_for else {}) for d in day.days)
    return Line(label, cells, key)


def single_line(label: str, text: str, *, key: str = "", endpoint: str | None = None,
                args: Mapping[str, Any] | None = None) -> Line:
    return Line(label, (Cell(text, endpoint, args or {}),), key)


def day_span(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The half-open timestamps of one whole day: an index range, where date(column) would scan."""
    start = dt.datetime.combine(day, dt.time.min)
    return start, start + dt.timedelta(days=1)


def format_count(count: int, unit: str = "件") -> str:
    return f"{count:,} {unit}"


def format_rate(part: int, whole: int) -> str:
    """A percentage with one decimal, or a dash when there is nothing to divide by."""
    return f"{part / whole * 100:.1f}%" if whole else NOT_AVAILABLE


def short_date(day: dt.date) -> str:
    return f"{day.month}/{day.day} ({weekday_label(day)})"


def date_time_label(moment: dt.datetime) -> str:
    return f"{moment.year}/{short_date(moment.date())} {moment:%H:%M}"
