"""Error pages in Japanese; JSON errors for the API."""
from flask import render_template, request
from werkzeug.exceptions import HTTPException

from core.extensions import WEBHOOK_PREFIX
from core.security import api_error

MESSAGES = {
    400: "リクエストが正しくありません。",
    401: "ログインが必要です。",
    403: "このページを表示する権限がありません。",
    404: "ページが見つかりません。",
    405: "この操作は許可されていません。",
    413: "ファイルが大きすぎます。",
    429: "リクエストが多すぎます。しばらく待ってから再度お試しください。",
    500: "サーバーでエラーが発生しました。時間をおいて再度お試しください。",
}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 429: "rate_limited", 500: "internal_error"}


def register(app):
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = MESSAGES.get(status, exc.name)
        detail = exc.description if exc.description and _is_ours(exc.description) else ""
        if request.path.startswith("/api/"):
            return api_error(CODES.get(status, "error"), detail or message, status)
        if request.path.startswith(WEBHOOK_PREFIX):
            return message, status
        return render_template("error.html", status=status, message=message, detail=detail), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return api_error("internal_error", MESSAGES[500], 500)
        return render_template("error.html", status=500, message=MESSAGES[500], detail=""), 500


def _is_ours(description: str) -> bool:
    """Werkzeug's default descriptions are English; ours are Japanese and worth showing."""
    return any(ord(ch) > 0x3000 for ch in description)
