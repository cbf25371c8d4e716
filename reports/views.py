"""Report pages: the daily report with its chart, the call detail list, their CSV downloads, and the flow
picture with the range's figures on it.

Everyone who may read the report sees what the 13:00 refreshes published, and may switch to the live
(unpublished) view, labelled 速報 (the home page's figures link to it).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from flask import Blueprint, render_template, request

from core import clock, phone
from core.calendar import calendar_for, weekday_label
from core.config import setting
from core.csvfile import ENCODINGS, csv_chunks, csv_response, encoding_for, line_chunks
from core.inputs import int_or
from core.pagination import Page, paginate
from core.retention import oldest_kept_day
from core.security import role_required
from ivr.public import menu_choice_names
from reports.aggregate import load_published
from ivr.public import flow_choices, flow_diagram, flow_spec
from reports.exports import CALL_HEADER, DAILY_HEADER, call_csv_lines, daily_csv_rows, download_name
from reports.figures import flow_figures as flow_figures_of
from reports.jobs import RefreshStatus, refresh_status
from reports.live import compute_current
from reports.models import NO_CALL, DailyStat
from reports.queries import CallFilter, calls_query, dialled_numbers, events_by_call
from reports.ranges import DateRange, RangeLimits, parse_range
from reports.summary import (
    CALL_OUTCOMES,
    COUNTER_LABELS,
    OUTCOME_LABELS,
    build_report,
    chart_series,
    dialled_label,
    empty_report,
    outcome_label,
    path_steps,
)

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")  # static files: web.assets

NO_CALL_PARAM = "-"  # the number filter's value for SMS sent outside calls
DAILY_CSV_NAME = "着信・SMS送信レポート"
CALLS_CSV_NAME = "通話明細"


@dataclass
class Scope:
    """What a report request asks for, checked: range, number, live or published."""

    live: bool
    status: RefreshStatus
    oldest: dt.date
    today: dt.date
    range: DateRange
    shown_end: dt.date | None  # the last day shown; published: never after the refresh's cutoff
    dialled: str | None
    outcome: str | None = None  # the call list's outcome filter
    errors: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.shown_end is not None and self.shown_end >= self.range.start

    @property
    def first_unpublished(self) -> dt.date | None:
        """The first day of the range the published view cannot show yet (None: all shown)."""
        if self.live or not self.shown or self.shown_end >= self.range.end:
            return None
        return self.shown_end + dt.timedelta(days=1)

    @property
    def call_filter_end(self) -> dt.date:
        return self.shown_end if self.shown else self.range.start - dt.timedelta(days=1)


def read_scope(args) -> Scope:
    now = clock.now()
    today = now.date()
    status = refresh_status(now, calendar_for(today))
    live = args.get("mode") == "live"
    oldest = oldest_kept_day(today, setting("reports.retention_days"))
    limits = RangeLimits(oldest, today, default_end=today if live else (status.cutoff or today))
    date_range, errors = parse_range(args.get("from"), args.get("to"), limits)
    if live:
        shown_end = date_range.end
    else:
        shown_end = None if status.cutoff is None else min(date_range.end, status.cutoff)
    outcome, outcome_error = outcome_param(args.get("outcome"))
    errors += outcome_error
    return Scope(live, status, oldest, today, date_range, shown_end, dialled_param(args.get("number")), outcome, errors)


def outcome_param(raw: str | None) -> tuple[str | None, list[str]]:
    """The outcome filter: one of the call outcomes, or none; anything else is named back as an error."""
    raw = (raw or "").strip()
    if not raw:
        return None, []
    if raw in CALL_OUTCOMES:
        return raw, []
    return None, [f"通話の結果「{raw}」は選べません。一覧から選んでください。"]


def dialled_param(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    return NO_CALL if raw == NO_CALL_PARAM else raw


def report_for(scope: Scope):
    if not scope.shown:
        return empty_report(scope.range.start)
    start, end = scope.range.start, scope.shown_end
    if scope.live:
        aggregates = compute_current(start, end, scope.dialled, scope.status.cutoff, scope.status.last_run_at)
    else:
        aggregates = load_published(start, end, scope.dialled)
    return build_report(aggregates, start, end, menu_choice_names())


def number_choices(scope: Scope) -> list[tuple[str, str]]:
    """(form value, label) of the dialled numbers to filter by."""
    published = [row[0] for row in DailyStat.select(DailyStat.dialled).distinct().order_by(DailyStat.dialled).tuples()]
    if scope.live:  # the published days' numbers, and those called since
        cutoff = scope.status.cutoff
        since = None if cutoff is None else cutoff + dt.timedelta(days=1)
        numbers = sorted({*published, *dialled_numbers(since), NO_CALL})
    else:
        numbers = published
    return [(number or NO_CALL_PARAM, dialled_label(phone.display(number))) for number in numbers]


def page_of(items: list, number) -> Page:
    size = setting("web.page_size")
    total = len(items)
    wanted = min(int_or(number, 1, minimum=1), max(1, -(-total // size)))
    return Page(items=items[(wanted - 1) * size:wanted * size], number=wanted, size=size, total=total)


def render_index(scope: Scope):
    report = report_for(scope)
    return render_template(
        "reports/index.html", scope=scope, report=report, days_page=page_of(report.days, request.args.get("page")),
        chart=chart_series(report), numbers=number_choices(scope), labels=COUNTER_LABELS, encodings=ENCODINGS,
        dialled_label=dialled_label, form=request.args, retention_days=setting("reports.retention_days"),
        weekday_label=weekday_label,
    ), (400 if scope.errors else 200)


@bp.route("/")
@role_required("manager")
def index():
    return render_index(read_scope(request.args))


@bp.route("/daily.csv")
@role_required("manager")
def daily_csv():
    scope = read_scope(request.args)
    if scope.errors:
        return render_index(scope)
    rows = daily_csv_rows(report_for(scope).rows)
    return report_download(DAILY_CSV_NAME, scope, lambda encoding: csv_chunks(DAILY_HEADER, rows, encoding))


@bp.route("/calls")
@role_required("manager")
def calls():
    scope = read_scope(request.args)
    criteria = call_filter(scope, request.args)
    page = paginate(calls_query(criteria), request.args.get("page", 1), setting("web.page_size"))
    events = events_by_call([call.id for call in page.items])
    return render_template(
        "reports/calls.html", scope=scope, page=page, paths={k: path_steps(v) for k, v in events.items()},
        numbers=number_choices(scope), encodings=ENCODINGS, outcome_label=outcome_label, form=request.args,
        retention_days=setting("reports.retention_days"), outcomes=[(o, OUTCOME_LABELS[o]) for o in CALL_OUTCOMES],
    ), (400 if scope.errors else 200)


@bp.route("/calls.csv")
@role_required("manager")
def calls_csv():
    scope = read_scope(request.args)
    if scope.errors:
        return calls()
    batches = call_csv_lines(call_filter(scope, request.args))
    return report_download(CALLS_CSV_NAME, scope, lambda encoding: line_chunks(CALL_HEADER, batches, encoding))


def call_filter(scope: Scope, args) -> CallFilter:
    return CallFilter(start=scope.range.start, end=scope.call_filter_end, caller=phone.search_term(args.get("caller")),
                      dialled=scope.dialled, outcome=scope.outcome)


def report_download(kind: str, scope: Scope, chunks_in):
    """Stream `chunks_in(encoding)`, the encoded CSV, as a download named after the range."""
    encoding = encoding_for(request.args.get("encoding"))
    return csv_response(download_name(kind, scope.range.start, scope.range.end), chunks_in(encoding), encoding)


@bp.route("/flow")
@role_required("manager")
def flow_figures():
    """The flow picture with the figures of the range laid over it (reports.figures)."""
    scope = read_scope(request.args)
    flows = flow_choices()
    flow_id = chosen_flow(flows, request.args.get("flow"), scope.dialled)
    picture = flow_diagram(flow_id) if flow_id else None
    figures = None
    if picture is not None and scope.shown:
        spec = flow_spec(flow_id)
        figures = flow_figures_of(flow_id, {k for k, n in spec.nodes.items() if n.kind == "menu"},
                                  {k: n.label for k, n in spec.nodes.items()}, scope.range.start, scope.shown_end)
    return render_template(
        "reports/flow.html", scope=scope, flows=flows, flow_id=flow_id, picture=picture, figures=figures,
        form=request.args, retention_days=setting("reports.retention_days"),
    ), (400 if scope.errors else 200)


def chosen_flow(flows: list[tuple[int, str, str]], raw: str | None, dialled: str | None) -> int | None:
    """The flow asked for; else the one of the chosen dialled number; else the first."""
    ids = [flow_id for flow_id, _, _ in flows]
    wanted = int_or(raw, 0, minimum=0)
    if wanted in ids:
        return wanted
    for flow_id, _, number in flows:
        if number == dialled:
            return flow_id
    return ids[0] if ids else None
