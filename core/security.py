"""Access checks shared by every blueprint: roles for pages, bearer tokens for the JSON API."""
from __future__ import annotations

import functools
import hashlib
import secrets

from flask import abort, g, jsonify, request
from flask_login import current_user

from core import clock
from core.models import ApiToken

TOKEN_PREFIX = "ivr_"


def role_required(minimum: str):
    """Page decorator: logged in with at least `minimum` role (staff < manager < admin), else 403."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from flask import current_app

                return current_app.login_manager.unauthorized()
            if not current_user.has_role(minimum):
                abort(403)
            return view(*args, **kwargs)

        wrapper.minimum_role = minimum
        return wrapper

    return decorate


def api_error(code: str, message: str, status: int = 400, **extra):
    """The API's one error shape: {"error": {"code", "message"(Japanese), ...}}."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_api_token(label: str, created_by: str = "") -> tuple[ApiToken, str]:
    """Make a token; the raw value is returned once and only its hash is stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.create(label=label, token_hash=hash_token(raw), prefix=raw[:10], created_by=created_by)
    return token, raw


def find_api_token(raw: str) -> ApiToken | None:
    if not raw:
        return None
    return ApiToken.active().where(ApiToken.token_hash == hash_token(raw)).first()


def api_token_required(view):
    """API decorator: `Authorization: Bearer <token>` of an unrevoked token, else 401 JSON."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return api_error("unauthorized", "Authorization: Bearer <トークン> ヘッダーが必要です。", 401)
        token = find_api_token(raw.strip())
        if token is None:
            return api_error("unauthorized", "API トークンが無効か、失効しています。", 401)
        ApiToken.update(last_used_at=clock.now()).where(ApiToken.id == token.id).execute()
        g.api_token = token
        g.audit_actor = f"api:{token.label}"
        return view(*args, **kwargs)

    return wrapper
