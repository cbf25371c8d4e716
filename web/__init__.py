"""The web application: app factory, login, accounts and admin pages, layout, API document."""
from __future__ import annotations

import importlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from core import phone
from core.config import ROOT, Settings, load_settings
from core.db import MAX_ID, bind_database, database
from core.extensions import WEBHOOK_PREFIX, csrf, login_manager, no_login_prefixes
from core.files import read_or_create_private
from core.migrate import upgrade_schema
from core.setting_labels import setting_label
from web.assets import install_static
from web.headers import install_security_headers
from web.limits import install_body_limits

# Feature packages, in dependency order. Each has init_app(app); optionally register_jobs(registry)
# and seed_defaults(app) (idempotent first-start data such as the demo flow).
# A package not yet present in the checkout is skipped; one that is present must import cleanly.
FEATURES: tuple[str, ...] = ("guidance", "sms", "sms.bulk", "ivr", "reports", "notify")


def create_app(config: Mapping[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the app. `config` holds dotted setting overrides (tests); nothing here starts threads."""
    settings = settings or load_settings(overrides=config)
    app = Flask(__name__, static_folder=None, template_folder="templates")
    configure(app, settings)
    bind_database(settings["database.url"])
    with database.connection_context():
        upgrade_schema()
    install_request_hooks(app)
    register_blueprints(app)
    for module in feature_modules():
        module.init_app(app)
    # Last, so they wrap everything the packages installed (the voice-webhook shortcut among them).
    app.config["UPLOAD_LIMITS"] = install_body_limits(app).upload_files
    install_security_headers(app)
    return app


class DatabaseIdConverter(IntegerConverter):
    """<int:…> in every route: a number no id column can hold matches no route (404) instead of reaching the
    database, where SQLite overflows on it."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def configure(app: Flask, settings: Settings) -> None:
    public = settings["web.public_base_url"] or f"http://127.0.0.1:{settings['web.port']}"
    secure = {"always": True, "never": False}.get(settings["web.secure_cookies"], public.startswith("https://"))
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings["web.secret_key"] or persistent_secret("secret_key"),
        PUBLIC_BASE_URL=public,
        TWILIO_AUTH_TOKEN=twilio_auth_token(settings),
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        # The cookie lasts as long as a login may; web.sessions ends it earlier when idle, saying why.
        PERMANENT_SESSION_LIFETIME=settings["web.session_absolute_hours"] * 3600,
        # A form's token lasts as long as an idle login: a form left open longer gets a Japanese page saying so.
        WTF_CSRF_TIME_LIMIT=settings["web.session_minutes"] * 60,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False
    app.url_map.converters["int"] = DatabaseIdConverter
    app.add_template_filter(phone.display, "phone")  # the one way every page shows a number
    app.add_template_global(setting_label)  # a setting named in a message, in words (never its key)
    if settings["web.trusted_proxies"]:
        n = settings["web.trusted_proxies"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run drowns the log


def twilio_auth_token(settings: Settings) -> str:
    from core.config import ConfigError

    if settings["twilio.auth_token"]:
        return settings["twilio.auth_token"]
    if settings["telephony.provider"] == "twilio":
        raise ConfigError("twilio.auth_token", "TELEPHONY_PROVIDER=twilio では TWILIO_AUTH_TOKEN が必要です")
    return persistent_secret("simulator_auth_token")


def persistent_secret(name: str) -> str:
    """A random secret made once and kept under var/ (mode 0600), so every process and restart agrees on it."""
    return read_or_create_private(ROOT / "var" / name, secrets.token_hex(32).encode()).decode().strip()


def feature_modules():
    present = [name for name in FEATURES if (ROOT / name.replace(".", "/") / "__init__.py").exists()]
    return [importlib.import_module(name) for name in present]


class CookieSessionsExceptWebhooks(SecureCookieSessionInterface):
    """Twilio's webhooks carry no session cookie: a null session spares each of them the cookie machinery."""

    def open_session(self, app, request):
        if request.path.startswith(WEBHOOK_PREFIX):
            return self.make_null_session(app)
        return super().open_session(app, request)


def forget_previous_request() -> None:
    # Requests made while an app context is already pushed (scripts, tests, the call simulator's
    # internal webhook calls) share `g`; the logged-in user and CSRF token must not leak between them.
    for key in list(g):
        g.pop(key, None)


def require_login():
    # Every page is behind login except the public prefixes; roles are checked per view.
    if request.path.startswith(no_login_prefixes()) or request.endpoint in (None, "static"):
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return None


def install_request_hooks(app: Flask) -> None:
    from web import sessions
    from web.inputs import refuse_nul_characters
    from web.ipallow import enforce_ip_allowlist

    app.session_interface = CookieSessionsExceptWebhooks()
    login_manager.init_app(app)
    sessions.install(login_manager)

    @app.before_request
    def prepare_request():
        # One hook rather than several: Twilio's webhooks pass through here on every key press.
        forget_previous_request()
        database.connect(reuse_if_open=True)
        if request.path.startswith(WEBHOOK_PREFIX):  # signed instead of logged in; no session, no allowlist
            g.audit_actor = ""
            refuse_nul_characters()
            return None
        enforce_ip_allowlist()
        # Login before anything reads the body (the NUL check here, the CSRF check next): a stranger's upload to
        # a page behind login is turned away unread.
        refused = require_login()
        if refused is not None:
            return refused
        g.audit_actor = current_user.username if current_user.is_authenticated else ""
        refuse_nul_characters()
        return None

    csrf.init_app(app)  # after prepare_request, so its check runs after the login check

    @app.teardown_request
    def close_database(exc):
        if not database.is_closed():
            database.close()

    @app.context_processor
    def layout_globals():
        from web.menu import visible_menu

        return {"menu": visible_menu(app, current_user), "settings": app.config["SETTINGS"],
                "upload_limits": app.config["UPLOAD_LIMITS"]}


def register_blueprints(app: Flask) -> None:
    from web import admin, api_docs, auth, errors, home

    install_static(app, FEATURES)
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api_docs.bp)
    errors.register(app)
    csrf.exempt(api_docs.bp)
