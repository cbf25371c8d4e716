"""The OpenAPI document: each feature package adds its paths; web serves the whole at /api/v1/openapi.json."""
from __future__ import annotations

from flask import Flask

BASE_DOCUMENT = {
    "openapi": "3.0.3",
    "info": {
        "title": "IVR + SMS platform API",
        "version": "1.0.0",
        "description": "SMS 送信・配信状況・一括配信・着信記録の API。`Authorization: Bearer <トークン>` が必要です。",
    },
    "servers": [{"url": "/"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            }
        },
        "responses": {
            "Unauthorized": {
                "description": "トークンがない、または無効",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "BadRequest": {
                "description": "入力エラー",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
            "NotFound": {
                "description": "見つからない",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        },
    },
    "security": [{"bearer": []}],
    "paths": {
        "/api/v1/whoami": {"get": {
            "summary": "トークンの確認（ラベルと先頭の文字）",
            "responses": {
                "200": {"description": "このトークン", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token", "prefix"],
                    "properties": {"token": {"type": "string"}, "prefix": {"type": "string"}}}}}},
                "401": {"$ref": "#/components/responses/Unauthorized"},
            },
        }},
    },
}


def add_api_paths(app: Flask, paths: dict, schemas: dict | None = None) -> None:
    """Merge a package's paths and schemas into the app's OpenAPI document."""
    doc = app.extensions.setdefault("openapi", _fresh_document())
    doc["paths"].update(paths)
    doc["components"]["schemas"].update(schemas or {})


def add_webhooks(app: Flask, webhooks: dict, schemas: dict | None = None) -> None:
    """Requests this platform sends to others (OpenAPI 3.1's `webhooks`, kept as `x-webhooks` in this 3.0
    document so API tools do not take them for paths of this server)."""
    doc = app.extensions.setdefault("openapi", _fresh_document())
    doc.setdefault("x-webhooks", {}).update(webhooks)
    doc["components"]["schemas"].update(schemas or {})


def document(app: Flask) -> dict:
    return app.extensions.setdefault("openapi", _fresh_document())


def _fresh_document() -> dict:
    import copy

    return copy.deepcopy(BASE_DOCUMENT)
