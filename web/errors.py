"""Error pages in Japanese; JSON errors for the API."""
from flask import Response, render_template, request
from werkzeug.exceptions import HTTPException

from core.extensions import SERVER_ERROR_MESSAGE, WEBHOOK_PREFIX
from core.security import api_error

MESSAGES = {
    400: "リクエストが正しくありません。",
    401: "ログインが必要です。",
    403: "このページを表示する権限がありません。",
    404: "ページが見つかりません。",
    405: "この操作は許可されていません。",
    413: "ファイルが大きすぎます。",
    429: "リクエストが多すぎます。しばらく待ってから再度お試しください。",
    500: SERVER_ERROR_MESSAGE,
}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 429: "rate_limited", 500: "internal_error"}


def register(app):
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = MESSAGES.get(status, exc.name)
        detail = exc.description if exc.description and _is_ours(exc.description) else ""
        if status == 413 and not detail:
            detail = f"1 回に送信できるのは {app.config['MAX_CONTENT_LENGTH'] // (1024 * 1024)} MB までです。"
        if request.path.startswith("/api/"):
            return api_error(CODES.get(status, "error"), detail or message, status)
        if request.path.startswith(WEBHOOK_PREFIX):
            return plain_text(message, status)
        return render_template("error.html", status=status, message=message, detail=detail), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        if request.path.startswith("/api/"):
            return api_error("internal_error", MESSAGES[500], 500)
        if request.path.startswith(WEBHOOK_PREFIX):  # Twilio: no session, no page layout
            return plain_text(MESSAGES[500], 500)
        return render_template("error.html", status=500, message=MESSAGES[500], detail=""), 500


def plain_text(message: str, status: int) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _is_ours(description: str) -> bool:
    """Werkzeug's default descriptions are English; ours are Japanese and worth showing."""
    return any(ord(ch) > 0x3000 for ch in description)
