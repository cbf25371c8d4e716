"""Bulk-send API (R-71): POST /api/v1/bulk-sends creates (and confirms) a send, GET …/<id> reports its progress."""
from __future__ import annotations

from flask import Blueprint, g, jsonify

from core.db import database
from core.inputs import json_request
from core.security import api_error, api_token_required
from sms.bulk import history, sends
from sms.bulk.models import MAX_MESSAGES, BulkRecipient, BulkSend, BulkSkipped
from sms.bulk.recipients import Candidate

bp = Blueprint("bulk_api", __name__, url_prefix="/api/v1/bulk-sends")
ERROR_STATUS = {"insufficient_tickets": 409, "not_found": 404, "not_editable": 409}


@bp.post("")
@api_token_required
@json_request
def create(body: dict):
    problems, numbers, texts, boxes = read_body(body)
    if problems:
        return api_error("invalid", " ".join(problems), 400, errors=problems)
    form, errors = sends.read_message_form(texts, boxes, schedule=bool(body.get("scheduled_at")),
                                           scheduled_text=str(body.get("scheduled_at") or ""),
                                           title=str(body.get("title") or ""))
    if errors:
        return api_error("invalid", " ".join(errors), 400, errors=errors)
    found = sends.build_recipients(Candidate(str(n), i) for i, n in enumerate(numbers, start=1))
    actor = g.audit_actor
    try:
        sends.refuse_if_short(len(found.recipients) * len(form.texts))
        send = sends.create_draft(found, source="api", actor=actor, via="api", source_detail="API")
        try:
            send = sends.confirm(send.id, form, actor)
        except sends.BulkError:
            discard_draft(send.id)
            raise
    except sends.BulkError as error:
        return api_error(error.code, " ".join(error.errors), ERROR_STATUS.get(error.code, 400))
    payload = send_payload(send)
    payload["skipped"] = [{"index": s.line, "number": s.raw, "reason": s.reason} for s in found.skipped + found.opted_out]
    payload["duplicates"] = [{"index": c.line, "number": c.raw} for c in found.duplicates]
    return jsonify(payload), 201


@bp.get("/<int:send_id>")
@api_token_required
def status(send_id: int):
    send = BulkSend.get_or_none(BulkSend.id == send_id)
    if send is None:
        return api_error("not_found", f"一括配信 {send_id} は見つかりません。", 404)
    return jsonify(send_payload(send))


def read_body(body: dict) -> tuple[list[str], list, list[str], list]:
    """Shape checks of the JSON (the SMS rules come after): recipients and 1–2 messages, each text or box."""
    problems = []
    numbers = body.get("recipients")
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, (str, int)) for n in numbers):
        problems.append("recipients に電話番号の配列を指定してください。")
        numbers = []
    messages = body.get("messages")
    if isinstance(messages, (str, dict)):
        messages = [messages]
    texts, boxes = [], []
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        problems.append(f"messages に 1〜{MAX_MESSAGES} 件のメッセージを指定してください。")
        messages = []
    for index, item in enumerate(messages, start=1):
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict) or not (item.get("text") or item.get("box") not in (None, "")):
            problems.append(f"messages[{index}] には text（本文）か box（蓄積BOX番号）を指定してください。")
            continue
        texts.append(str(item.get("text") or ""))
        boxes.append(item.get("box"))
    if "scheduled_at" in body and body["scheduled_at"] is not None and not isinstance(body["scheduled_at"], str):
        problems.append("scheduled_at は \"YYYY-MM-DDTHH:MM\" 形式の文字列で指定してください。")
    return problems, numbers, texts, boxes


def discard_draft(send_id: int) -> None:
    """A send the API could not confirm leaves nothing behind."""
    with database.atomic():
        BulkRecipient.delete().where(BulkRecipient.bulk_send == send_id).execute()
        BulkSkipped.delete().where(BulkSkipped.bulk_send == send_id).execute()
        BulkSend.delete().where(BulkSend.id == send_id).execute()


def send_payload(send: BulkSend) -> dict:
    def stamp(value):
        return value.isoformat(timespec="seconds") if value else None

    return {
        "id": send.id, "title": send.label, "status": send.status, "immediate": send.immediate,
        "scheduled_at": stamp(send.scheduled_at), "started_at": stamp(send.started_at),
        "finished_at": stamp(send.finished_at), "recipients": send.recipient_count,
        "duplicate_count": send.duplicate_count, "skipped_count": send.invalid_count + send.optout_count,
        "messages": send.messages, "tickets_needed": send.slot_count, "tickets_used": send.tickets_used,
        "progress": history.progress_of(send.id).as_dict(),
    }


_PROGRESS = {"type": "object", "properties": {k: {"type": "integer"} for k in
                                             ("total", "remaining", "sent", "delivered", "failed", "percent")}}
_MESSAGE = {"oneOf": [{"type": "string"}, {"type": "object", "properties": {
    "text": {"type": "string", "description": "本文（{url}・{optout_url} 使用可）"},
    "box": {"type": "integer", "description": "蓄積BOX番号（本文を省略すると BOX の本文）"}}}]}
OPENAPI_SCHEMAS = {
    "BulkSendRequest": {
        "type": "object", "required": ["recipients", "messages"],
        "properties": {
            "recipients": {"type": "array", "items": {"type": "string"}, "example": ["090-1234-5678", "08011112222"],
                           "description": "携帯電話番号。ハイフン可、重複は 1 回だけ送信、携帯以外と配信停止はスキップ"},
            "messages": {"type": "array", "minItems": 1, "maxItems": MAX_MESSAGES, "items": _MESSAGE},
            "scheduled_at": {"type": "string", "example": "2026-01-05T18:00",
                             "description": "配信予約の日時（東京時間）。省略すると即時配信"},
            "title": {"type": "string"},
        },
    },
    "BulkSend": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "status": {"type": "string", "enum": ["scheduled", "running", "completed", "cancelled", "draft"]},
            "immediate": {"type": "boolean"}, "scheduled_at": {"type": "string", "nullable": True},
            "started_at": {"type": "string", "nullable": True}, "finished_at": {"type": "string", "nullable": True},
            "recipients": {"type": "integer"}, "duplicate_count": {"type": "integer"},
            "skipped_count": {"type": "integer"}, "messages": {"type": "array", "items": {"type": "string"}},
            "tickets_needed": {"type": "integer"}, "tickets_used": {"type": "integer"}, "progress": _PROGRESS,
        },
    },
}
_JSON = "application/json"
OPENAPI_PATHS = {
    "/api/v1/bulk-sends": {
        "post": {
            "summary": "一括配信を作成（即時配信または配信予約）",
            "requestBody": {"required": True, "content": {_JSON: {"schema": {"$ref": "#/components/schemas/BulkSendRequest"}}}},
            "responses": {
                "201": {"description": "作成した一括配信", "content": {_JSON: {"schema": {"$ref": "#/components/schemas/BulkSend"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "409": {"description": "チケット不足", "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        },
    },
    "/api/v1/bulk-sends/{id}": {
        "get": {
            "summary": "一括配信の状況（送信済み・送達・失敗・残り）",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "一括配信", "content": {_JSON: {"schema": {"$ref": "#/components/schemas/BulkSend"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        },
    },
}
