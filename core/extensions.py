"""Flask extensions shared by web and the feature blueprints (so features need not import web), and the
registry of public paths."""
from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from core import registry

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "ログインしてください。"
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"

SERVER_ERROR_MESSAGE = "サーバーでエラーが発生しました。時間をおいて再度お試しください。"

# Twilio's webhooks: signed instead of logged in, no session cookie, no allowlist (Twilio calls from anywhere).
WEBHOOK_PREFIX = "/twilio/"
# Paths anyone may reach without a login session and from any address, whatever the feature packages: webhooks
# check Twilio's signature instead, the API a bearer token; static assets, icon and health check are public.
# A package adds its own public pages with register_public_paths (sms: short links, opt-out; guidance: audio).
PUBLIC_PREFIXES = (WEBHOOK_PREFIX, "/static/", "/api/", "/healthz", "/favicon.ico")
LOGIN_PAGE = "/login"  # public too, but behind the login allowlist like every page


def register_public_paths(app: Flask, *prefixes: str) -> None:
    """Paths under `prefixes` need no login and are open from any address (callers, carriers, Twilio)."""
    for prefix in prefixes:
        registry.add(app, "public_paths", prefix, prefix)


def no_allowlist_prefixes() -> tuple[str, ...]:
    """The public paths of the current app: the kernel's and those the packages registered."""
    return PUBLIC_PREFIXES + tuple(registry.entries("public_paths"))


def no_login_prefixes() -> tuple[str, ...]:
    return no_allowlist_prefixes() + (LOGIN_PAGE,)
