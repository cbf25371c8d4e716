"""Flask extensions shared by web and the feature blueprints (so features need not import web)."""
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "ログインしてください。"
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"

SERVER_ERROR_MESSAGE = "サーバーでエラーが発生しました。時間をおいて再度お試しください。"

# Twilio's webhooks: signed instead of logged in, no session cookie, no allowlist (Twilio calls from anywhere).
WEBHOOK_PREFIX = "/twilio/"
# Paths anyone may reach without a login session. Webhooks check Twilio's signature instead, the
# API a bearer token; opt-out pages, short links, audio for Twilio and static assets are public.
NO_LOGIN_PREFIXES = (WEBHOOK_PREFIX, "/s/", "/optout/", "/static/", "/api/", "/audio/", "/healthz", "/login",
                     "/favicon.ico")
# Of those, the ones the IP allowlists do not apply to (callers, carriers and Twilio come from anywhere).
NO_ALLOWLIST_PREFIXES = (WEBHOOK_PREFIX, "/s/", "/optout/", "/static/", "/api/", "/audio/", "/healthz",
                         "/favicon.ico")
