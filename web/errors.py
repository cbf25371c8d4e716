"""Error pages in Japanese; JSON errors for the API."""
from flask import Response, flash, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from core.extensions import SERVER_ERROR_MESSAGE, WEBHOOK_PREFIX
from core.security import api_error
from web.limits import size_label

MESSAGES = {
    400: "リクエストが正しくありません。",
    401: "ログインが必要です。",
    403: "このページを表示する権限がありません。",
    404: "ページが見つかりません。",
    405: "この操作は許可されていません。",
    413: "送信されたデータが大きすぎます。",
    429: "リクエストが多すぎます。しばらく待ってから再度お試しください。",
    500: SERVER_ERROR_MESSAGE,
}
# A form's CSRF token is missing or past WTF_CSRF_TIME_LIMIT: most often a page left open past an idle login.
FORM_EXPIRED = ("画面を開いてから時間が経ったため、送信を受け付けられませんでした。"
                "入力した内容を控えてから、画面を開き直してもう一度送信してください。")
LOGIN_FORM_EXPIRED = "ログイン画面を開いてから時間が経ちました。もう一度ログインしてください。"
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "too_large", 429: "rate_limited", 500: "internal_error"}


def register(app):
    @app.errorhandler(CSRFError)
    def form_expired(exc: CSRFError):
        if request.path.startswith("/api/") or request.is_json:  # the pages' own fetch() calls read JSON
            return api_error("bad_request", FORM_EXPIRED, 400)
        if request.endpoint == "auth.login":
            flash(LOGIN_FORM_EXPIRED, "warning")
            return render_template("auth/login.html", username=request.form.get("username", "").strip()), 400
        return render_template("error.html", status=400, message=MESSAGES[400], detail=FORM_EXPIRED), 400

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        message = MESSAGES.get(status, exc.name)
        detail = exc.description if exc.description and _is_ours(exc.description) else ""
        if status == 413 and not detail:
            detail = f"1 回に送信できるのは {size_label(app.config['MAX_CONTENT_LENGTH'])} までです。"
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
