"""Report API: call records and published daily report rows for a date range (Bearer token)."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from core import clock, phone
from core.calendar import calendar_for
from core.config import setting
from core.csvfile import format_datetime
from core.db import MAX_ID
from core.inputs import InputError, parse_int
from core.openapi import add_api_paths
from core.retention import oldest_kept_day
from core.security import api_error, api_token_required
from ivr.public import Call
from reports.aggregate import load_published
from reports.jobs import refresh_status
from reports.queries import CallFilter, events_by_call
from reports.ranges import RangeLimits, parse_range
from reports.summary import COUNTERS, build_report, empty_report, outcome_label

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


def requested_range():
    """(DateRange, None) or (None, error response) for ?from=&to=."""
    missing = [name for name in ("from", "to") if not request.args.get(name, "").strip()]
    if missing:
        return None, api_error("invalid_range", "、".join(missing) + " を YYYY-MM-DD 形式で指定してください。")
    today = clock.today()
    limits = RangeLimits(oldest_kept_day(today, setting("reports.retention_days")), today, today)
    date_range, errors = parse_range(request.args["from"], request.args["to"], limits, labels=("from", "to"))
    if errors:
        return None, api_error("invalid_range", " ".join(errors), errors=errors)
    return date_range, None


def int_param(name: str, default: int, low: int, high: int):
    try:
        return parse_int(request.args.get(name), name, minimum=low, maximum=high, default=default), None
    except InputError as error:
        return None, api_error("invalid_parameter", error.message)


@bp.get("/calls")
@api_token_required
def list_calls():
    date_range, error = requested_range()
    if error:
        return error
    limit, error = int_param("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if error:
        return error
    after, error = int_param("after", 0, 0, MAX_ID)
    if error:
        return error
    dialled = request.args.get("dialled", "").strip() or None
    criteria = CallFilter(date_range.start, date_range.end, phone.search_term(request.args.get("caller")), dialled)
    calls = list(Call.select().where(criteria.where() & (Call.id > after)).order_by(Call.id).limit(limit))
    events = events_by_call([call.id for call in calls])
    return jsonify({
        "from": date_range.start.isoformat(), "to": date_range.end.isoformat(), "count": len(calls),
        "next_after": calls[-1].id if len(calls) == limit else None,
        "calls": [call_json(call, events[call.id]) for call in calls],
    })


def call_json(call: Call, events: list[tuple]) -> dict:
    return {
        "id": call.id, "call_sid": call.call_sid, "from_number": call.from_number, "to_number": call.to_number,
        "started_at": format_datetime(call.started_at), "ended_at": format_datetime(call.ended_at) or None,
        "duration_seconds": call.duration_seconds, "outcome": call.outcome, "outcome_label": outcome_label(call.outcome),
        "last_node_name": call.last_node_name, "abandoned_node_name": call.abandoned_node_name,
        "abandoned_part": call.abandoned_part, "abandoned_part_label": call.abandoned_part_label or None,
        "abandoned_guidance_name": call.abandoned_guidance_name,
        "path": [{"kind": kind, "node_key": key, "node_name": name, "digits": digits, "detail": detail}
                 for kind, key, name, digits, detail in events],
    }


@bp.get("/report")
@api_token_required
def report_rows():
    date_range, error = requested_range()
    if error:
        return error
    status = refresh_status(clock.now(), calendar_for(clock.today()))
    end = min(date_range.end, status.cutoff) if status.cutoff else None
    if end is None or end < date_range.start:
        report = empty_report(date_range.start)
    else:
        report = build_report(load_published(date_range.start, end), date_range.start, end)
    return jsonify({
        "from": date_range.start.isoformat(), "to": date_range.end.isoformat(),
        "published_through": status.cutoff.isoformat() if status.cutoff else None,
        "refreshed_at": format_datetime(status.last_run_at) or None,
        "rows": [row.as_dict() for row in report.rows],
        "totals": report.total.as_dict(),
        "abandoned_by_menu": [{"node_key": key, "node_name": name, "count": count}
                              for key, name, count in report.abandons],
        "abandoned_by_guidance": [{"node_key": p.node_key, "node_name": p.node_name, "part": p.part,
                                   "part_label": p.part_label, "guidance_name": p.guidance_name, "count": p.count}
                                  for p in report.abandon_places],
        "recorded_before_change": [day.isoformat() for day in report.legacy_days],
        "choices_by_menu": [{"node_key": menu.node_key, "node_name": menu.node_name,
                             "choices": [{"label": label, "count": count} for label, count in menu.items]}
                            for menu in report.menus],
    })


COUNTS_SCHEMA = {name: {"type": "integer"} for name in COUNTERS}
PATHS = {
    "/api/v1/calls": {"get": {
        "summary": "着信記録 (通話明細) の一覧",
        "description": "期間内の着信を古い順に返します (記録されたままのデータ。13:00 の公開を待ちません)。"
                       "保存期間 (既定 90 日) を過ぎた日付は指定できません。続きは next_after を after に指定して取得します。",
        "parameters": [
            {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
            {"name": "caller", "in": "query", "schema": {"type": "string"}, "description": "発信者番号の一部"},
            {"name": "dialled", "in": "query", "schema": {"type": "string"}, "description": "着信番号 (E.164)"},
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            {"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0}},
        ],
        "responses": {
            "200": {"description": "着信記録", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CallList"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }},
    "/api/v1/report": {"get": {
        "summary": "着信・SMS送信レポート (公開済みの日別集計)",
        "description": "13:00 の更新で公開された日別・着信番号別の集計を返します。未公開の日は含まれません "
                       "(published_through まで)。",
        "parameters": [
            {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
            {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}},
        ],
        "responses": {
            "200": {"description": "日別集計", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Report"}}}},
            "400": {"$ref": "#/components/responses/BadRequest"},
            "401": {"$ref": "#/components/responses/Unauthorized"},
        },
    }},
}
SCHEMAS = {
    "CallRecord": {"type": "object", "properties": {
        "id": {"type": "integer"}, "call_sid": {"type": "string"}, "from_number": {"type": "string"},
        "to_number": {"type": "string"}, "started_at": {"type": "string"},
        "ended_at": {"type": "string", "nullable": True}, "duration_seconds": {"type": "integer", "nullable": True},
        "outcome": {"type": "string", "nullable": True,
                    "enum": ["completed", "abandoned", "retry_limit", "transferred", "voicemail", "error", None]},
        "outcome_label": {"type": "string"}, "last_node_name": {"type": "string"},
        "abandoned_node_name": {"type": "string", "nullable": True,
                                "description": "途中放棄: 切断時に再生していたノード"},
        "abandoned_part": {"type": "string", "nullable": True,
                           "description": "切断時に再生していたもの (greeting, menu_prompt, timeout, mis_entry, "
                                          "input_wait, sms_result, transfer, closing など。変更前の記録は unknown)"},
        "abandoned_part_label": {"type": "string", "nullable": True},
        "abandoned_guidance_name": {"type": "string", "nullable": True,
                                    "description": "切断時に再生していたガイダンスの名前"},
        "path": {"type": "array", "items": {"type": "object", "properties": {
            "kind": {"type": "string"}, "node_key": {"type": "string"}, "node_name": {"type": "string"},
            "digits": {"type": "string"}, "detail": {"type": "string"}}}},
    }},
    "CallList": {"type": "object", "required": ["from", "to", "count", "calls"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "count": {"type": "integer"}, "next_after": {"type": "integer", "nullable": True},
        "calls": {"type": "array", "items": {"$ref": "#/components/schemas/CallRecord"}},
    }},
    "ReportRow": {"type": "object", "properties": {
        "date": {"type": "string", "format": "date"}, "dialled_number": {"type": "string"}, **COUNTS_SCHEMA}},
    "Report": {"type": "object", "required": ["from", "to", "rows", "totals"], "properties": {
        "from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"},
        "published_through": {"type": "string", "format": "date", "nullable": True},
        "refreshed_at": {"type": "string", "nullable": True},
        "rows": {"type": "array", "items": {"$ref": "#/components/schemas/ReportRow"}},
        "totals": {"type": "object", "properties": COUNTS_SCHEMA},
        "abandoned_by_menu": {"type": "array", "items": {"type": "object", "properties": {
            "node_key": {"type": "string"}, "node_name": {"type": "string"}, "count": {"type": "integer"}}}},
        "abandoned_by_guidance": {"type": "array", "items": {"type": "object", "properties": {
            "node_key": {"type": "string"}, "node_name": {"type": "string"}, "part": {"type": "string"},
            "part_label": {"type": "string"}, "guidance_name": {"type": "string"}, "count": {"type": "integer"}}}},
        "recorded_before_change": {"type": "array", "items": {"type": "string", "format": "date"},
                                   "description": "変更前の方式で記録された通話を含む日 (途中放棄の場所はメニュー単位)"},
        "choices_by_menu": {"type": "array", "items": {"type": "object", "properties": {
            "node_key": {"type": "string"}, "node_name": {"type": "string"},
            "choices": {"type": "array", "items": {"type": "object", "properties": {
                "label": {"type": "string"}, "count": {"type": "integer"}}}}}}},
    }},
}


def document(app) -> None:
    add_api_paths(app, PATHS, SCHEMAS)
