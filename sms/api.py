"""JSON API (R-71, SPEC §11): POST /api/v1/messages, GET /api/v1/messages/<id>. Bearer token; JSON errors."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from core.inputs import InputError, json_int, json_request
from core.security import api_error, api_token_required
from sms.carriers import carrier_label
from sms.models import MAX_BOX_NUMBER, Message
from sms.rules import URL_PATTERN
from sms.sending import queue_box, queue_text

bp = Blueprint("sms_api", __name__, url_prefix="/api/v1")
MAX_KEY_LENGTH = 200

ERRORS = {
    "to": "to（送信先の携帯電話番号）を文字列で指定してください。",
    "box_or_text": "box（蓄積BOX番号）か text（本文）のどちらか一方を指定してください。",
    "box": f"box（蓄積BOX番号）は 1〜{MAX_BOX_NUMBER} の整数で指定してください。",
    "text": "text（本文）は文字列で指定してください。",
    "url": "url は http:// または https:// で始まる 1000 文字以内の文字列で指定してください（本文指定のときだけ使えます）。",
    "key": f"Idempotency-Key は {MAX_KEY_LENGTH} 文字以内で指定してください。",
    "not_found": "ID {id} の SMS は見つかりません。",
}
REFUSAL_STATUS = {"not_mobile": 422, "withheld": 422, "invalid_text": 422, "opted_out": 422, "no_ticket": 422,
                  "no_box": 422}


def message_json(m: Message) -> dict:
    """The API's view of a message: status 0-3; the error message only once the failure is final."""
    return {
        "id": m.id, "to": m.to_number, "status": m.status, "state": m.state, "box": m.box_number,
        "parts": m.parts, "error_message": m.error_message if m.status == 3 else "",
        "resend_count": m.resend_count, "clicks": m.clicks, "created_at": m.created_at.isoformat(timespec="seconds"),
        "carrier": carrier_label(m.carrier), "carrier_code": m.carrier or "unknown",
    }


@bp.route("/messages", methods=["POST"])
@api_token_required
@json_request
def create_message(data: dict):
    problem = request_problem(data)
    if problem:
        return api_error("invalid_request", ERRORS[problem], 400)
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > MAX_KEY_LENGTH:
        return api_error("invalid_request", ERRORS["key"], 400)
    options = dict(source="api", created_by=f"api:{g.api_token.label}"[:100],
                   idempotency_key=f"api:{g.api_token.id}:{key}" if key else None)
    if data.get("box") is not None:
        result = queue_box(data["box"], data["to"], **options)
    else:
        result = queue_text(data["text"], data["to"], url=(data.get("url") or "").strip(), url_field="url", **options)
    if not result.ok:
        extra = {"id": result.message_id} if result.message_id else {}
        return api_error(result.code, result.reason, REFUSAL_STATUS.get(result.code, 422), **extra)
    message = Message.get_by_id(result.message_id)
    response = jsonify(message_json(message))
    response.status_code = 201
    response.headers["Location"] = url_for("sms_api.get_message", message_id=message.id)
    return response


def request_problem(data: dict) -> str | None:
    if not isinstance(data.get("to"), str):
        return "to"
    has_box, has_text = data.get("box") is not None, data.get("text") is not None
    if has_box == has_text:
        return "box_or_text"
    if has_box:
        try:
            json_int(data["box"], "box", minimum=1, maximum=MAX_BOX_NUMBER)
        except InputError:
            return "box"
    elif not isinstance(data["text"], str):
        return "text"
    url = data.get("url")
    if url is not None and (has_box or not isinstance(url, str) or len(url) > 1000
                            or (url.strip() and not URL_PATTERN.match(url.strip()))):
        return "url"
    return None


@bp.route("/messages/<int:message_id>", methods=["GET"])
@api_token_required
def get_message(message_id: int):
    message = Message.get_or_none(Message.id == message_id)  # ids beyond the column: no route (web/__init__.py)
    if message is None:
        return api_error("not_found", ERRORS["not_found"].format(id=message_id), 404)
    return jsonify(message_json(message))


TO_SCHEMA = {"type": "string", "example": "090-1234-5678",
             "description": "日本の携帯電話番号（060/070/080/090 の 11 桁。ハイフン・全角数字・+81 可）"}
ERROR_RESPONSE = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
OPENAPI_SCHEMAS = {
    "Message": {
        "type": "object",
        "required": ["id", "to", "status", "error_message", "parts", "resend_count"],
        "properties": {
            "id": {"type": "integer"},
            "to": {"type": "string", "description": "送信先（E.164 形式 +81…）"},
            "status": {"type": "integer", "enum": [0, 1, 2, 3],
                       "description": "0 状態不明 / 1 配信中 / 2 送達 / 3 配信失敗"},
            "state": {"type": "string", "enum": ["queued", "sending", "resend_wait", "delivered", "failed",
                                                  "unknown"], "description": "管理画面の状態（resend_wait = 失敗再送）"},
            "box": {"type": "integer", "nullable": True, "description": "蓄積BOX番号（本文指定のときは null）"},
            "parts": {"type": "integer", "description": "分割通数（70 文字まで 1 通、以降 67 文字ごと）"},
            "error_message": {"type": "string", "description": "配信失敗時のエラーメッセージ（不明なエラーは空欄）"},
            "resend_count": {"type": "integer", "description": "システム再送の回数"},
            "clicks": {"type": "integer", "description": "短縮 URL のクリック数"},
            "created_at": {"type": "string", "description": "受付日時（日本時間）"},
            "carrier": {"type": "string", "enum": ["ドコモ", "au (KDDI)", "ソフトバンク", "楽天モバイル", "その他", "不明"],
                        "description": "送信先のキャリア（Y!mobile・LINEMO はソフトバンク。判定前・判定できないときは不明）"},
            "carrier_code": {"type": "string", "enum": ["docomo", "au", "softbank", "rakuten", "other", "unknown"],
                             "description": "carrier の記号"},
        },
    },
    "NewMessage": {
        "description": "box（蓄積BOX番号）か text（本文）のどちらか一方を指定します。",
        "oneOf": [{"$ref": "#/components/schemas/NewBoxMessage"}, {"$ref": "#/components/schemas/NewTextMessage"}],
    },
    "NewBoxMessage": {
        "type": "object",
        "required": ["to", "box"],
        "properties": {"to": TO_SCHEMA,
                       "box": {"type": "integer", "minimum": 1, "maximum": MAX_BOX_NUMBER, "example": 1,
                               "description": "蓄積BOX番号"}},
    },
    "NewTextMessage": {
        "type": "object",
        "required": ["to", "text"],
        "properties": {"to": TO_SCHEMA,
                       "text": {"type": "string", "example": "ご予約ありがとうございます。",
                                "description": "本文（{optout_url} は受信者ごとの配信停止 URL に、{url} は url の短縮 URL に置き換え）"},
                       "url": {"type": "string", "example": "https://example.jp/reserve",
                               "description": "短縮 URL にして送る URL（本文に {url} がなければ最後の行に付けます）"}},
    },
}
OPENAPI_PATHS = {
    "/api/v1/messages": {
        "post": {
            "summary": "SMS を送信する（送信待ちに登録）",
            "operationId": "createMessage",
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH},
                            "description": "同じキーの再送信は最初の結果を返します"}],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewMessage"}}}},
            "responses": {
                "201": {"description": "受け付けました",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "422": {"description": "送信できません（携帯番号でない・配信停止・チケット不足・本文の文字など）",
                        **ERROR_RESPONSE},
            },
        },
    },
    "/api/v1/messages/{id}": {
        "get": {
            "summary": "SMS の配信状況を取得する",
            "operationId": "getMessage",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "配信状況",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
            },
        },
    },
}
