"""Shared fixtures: app, client, db, clock, users and logged-in clients, live server, real browser.

Every test that uses `app` runs on SQLite, and again on PostgreSQL when one is reachable at
127.0.0.1:5432 (user postgres). Mark a test `sqlite_only` to run it once.
"""
from __future__ import annotations

import datetime as dt
import os
import socket
import threading

import pytest

os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from core import clock as clock_module  # noqa: E402
from tests.support import db as testdb  # noqa: E402
from tests.support.web import BrowserLikeClient  # noqa: E402

PASSWORD = "correct-horse-1"
# Users made by fixtures get a cheap PBKDF2 hash: a login still verifies it through the app's check, in a fraction
# of the default scrypt's time (each scrypt takes a second and more on a loaded 2-CPU machine, twice per logged-in
# client). The tests about how passwords are stored make theirs with the app's own hash_password (see
# tests/foundation/test_login_security.py); the app hashes every password it is given itself as before.
FIXTURE_HASH_METHOD = "pbkdf2:sha256:1000"


def fixture_password_hash(password: str = PASSWORD) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=FIXTURE_HASH_METHOD)
_PG_AVAILABLE = testdb.postgres_reachable()
_PG_SKIP_REASON = "PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres, trust auth)"


def read_yaml_once_per_version(read_yaml):
    """core.config.read_yaml remembering each file's settings until the file changes: every test builds an app,
    and parsing config.yaml (pure-Python YAML) was a fifth of that. Errors are not remembered (raised each time)."""
    import copy
    from pathlib import Path

    read: dict[tuple, dict] = {}

    def cached(path):
        try:
            stat = Path(path).stat()
        except OSError:
            return read_yaml(path)
        key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in read:
            read[key] = read_yaml(path)
        return copy.deepcopy(read[key])

    return cached


def synthesized_once(synthesize, keep_bytes: int = 256 * 1024 * 1024):
    """OpenJTalkEngine.synthesize remembering what it made in this test process: the same text, voice, speed and
    dictionary give the very same samples (Open JTalk is deterministic), and many tests make the same guidance (the
    demo flow's ten sentences take seconds each). Each caller gets its own copy; failures are not remembered; at
    most `keep_bytes` of audio is kept."""
    import threading

    from guidance.tts import Speech

    made: dict[tuple, Speech] = {}
    lock = threading.Lock()
    kept = [0]

    def cached(engine, text: str, voice: str, speed: float, dict_dir: str):
        key = (text, voice, float(speed), dict_dir)
        found = made.get(key)
        if found is None:
            found = synthesize(engine, text, voice, speed, dict_dir)
            with lock:
                if key not in made and kept[0] + found.samples.nbytes <= keep_bytes:
                    made[key] = found
                    kept[0] += found.samples.nbytes
        return Speech(samples=found.samples.copy(), rate=found.rate)

    return cached


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: run on SQLite only (not again on PostgreSQL)")
    from core import config as core_config
    from guidance.tts import OpenJTalkEngine

    core_config.read_yaml = read_yaml_once_per_version(core_config.read_yaml)
    OpenJTalkEngine.synthesize = synthesized_once(OpenJTalkEngine.synthesize)
    # xdist's load scheduling hands each worker consecutive chunks of a quarter of its share at the start: the slow
    # tests, collected first (below), would all go to the first worker. Two at a time spreads them.
    if config.pluginmanager.hasplugin("xdist") and config.getoption("maxschedchunk", None) is None:
        config.option.maxschedchunk = 2


def pytest_collection_modifyitems(items):
    """The slow tests first, then the browser ones, so that no worker starts a long one when the others are done."""
    def weight(item):
        return 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("browser") else 2

    items.sort(key=weight)


def pytest_generate_tests(metafunc):
    if "database_url" in metafunc.fixturenames:
        backends = ["sqlite"]
        if not metafunc.definition.get_closest_marker("sqlite_only"):
            backends.append("postgres")
        metafunc.parametrize("database_url", backends, indirect=True)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return testdb.make_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_database():
    if not _PG_AVAILABLE:
        pytest.skip(_PG_SKIP_REASON)
    pg = testdb.PostgresTestDatabase()
    pg.create()
    yield pg
    pg.drop()


@pytest.fixture
def database_url(request, sqlite_template, tmp_path):
    if request.param == "postgres":
        pg = request.getfixturevalue("postgres_database")
        testdb.migrate(pg.url)
        pg.truncate_all()
        return pg.url
    return testdb.sqlite_copy(sqlite_template, tmp_path / "test.db")


@pytest.fixture
def clock():
    """A controllable clock (Asia/Tokyo wall time), installed for the test."""
    fake = clock_module.FakeClock("2026-01-05 10:00:00")
    previous = clock_module.current_clock()
    clock_module.use_clock(fake)
    yield fake
    clock_module.use_clock(previous)


@pytest.fixture
def app_config(tmp_path):
    """Setting overrides for the app under test; extend in a test module by overriding this fixture."""
    return {
        "web.public_base_url": "http://localhost",
        "web.secret_key": "test-secret",
        "twilio.auth_token": "test-auth-token",
        "twilio.account_sid": "AC" + "1" * 32,
        "guidance.audio_dir": str(tmp_path / "audio"),
    }


@pytest.fixture
def app(database_url, app_config, clock):
    from core.db import database
    from web import create_app

    application = create_app({**app_config, "database.url": database_url})
    application.test_client_class = BrowserLikeClient
    application.config["TESTING"] = True
    ctx = application.app_context()
    ctx.push()
    database.connect(reuse_if_open=True)
    yield application
    if not database.is_closed():
        database.close()
    ctx.pop()


@pytest.fixture
def db(app):
    """The bound database, connected for the test body."""
    from core.db import database

    return database


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    from core.models import User

    def make(username: str = "user", role: str = "staff", password: str = PASSWORD, **kw) -> User:
        return User.create(username=username, role=role, password_hash=fixture_password_hash(password), **kw)

    return make


def _logged_in(app, make_user, role: str):
    user = make_user(username=f"{role}1", role=role)
    client = app.test_client()
    response = client.login(user.username, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


@pytest.fixture
def admin_client(app, make_user):
    return _logged_in(app, make_user, "admin")


@pytest.fixture
def manager_client(app, make_user):
    return _logged_in(app, make_user, "manager")


@pytest.fixture
def staff_client(app, make_user):
    return _logged_in(app, make_user, "staff")


# --- live server and real browser ------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(database_url, app_config, clock):
    """The app served over real HTTP in a thread; yields an object with .url and .app."""
    from werkzeug.serving import make_server

    from web import create_app

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    application = create_app({**app_config, "database.url": database_url, "web.public_base_url": base,
                              "web.port": port})
    server = make_server("127.0.0.1", port, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Live:
        url = base
        app = application

    yield Live
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",  # a microphone that beeps
                 "--disable-sync", "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    executable = "/usr/bin/chromium"
    assert os.path.exists(executable), "Debian's chromium is missing: ./dev test installs it (apt-get install chromium)"
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", accept_downloads=True)
    # Caps on waiting for an event, not guesses of how long it takes: a passing test never waits them out, and
    # on a fresh machine under load a save that synthesises audio (the worker's first Open JTalk call) or a
    # page's first load can take well over 10 s.
    context.set_default_timeout(30000)
    context.set_default_navigation_timeout(60000)
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def browser_login(live_server):
    """Log a browser page in as a new user of the given role on the live server."""
    from core.db import database
    from core.models import User

    def login(page, role: str = "admin", username: str | None = None):
        username = username or f"{role}-browser"
        with live_server.app.app_context(), database.connection_context():
            if not User.select().where(User.username == username).exists():
                User.create(username=username, role=role, password_hash=fixture_password_hash())
        page.goto(live_server.url + "/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return username

    return login


# --- local Twilio-compatible server ------------------------------------------------------------------------
TEST_ACCOUNT_SID = "AC" + "1" * 32   # the values of app_config above
TEST_AUTH_TOKEN = "test-auth-token"


@pytest.fixture
def twilio_server():
    """tests/support/fake_twilio.FakeTwilio on a free port, with the test account's SID and auth token.

    Its clock follows core.clock (so a `clock` fixture moves it too). Point the app at it by overriding
    app_config with {"telephony.provider": "twilio", "twilio.api_base_url": twilio_server.url}.
    """
    from tests.support.fake_twilio import FakeTwilio

    def now_utc():  # Twilio's clock is UTC; the app's is naive Tokyo wall-clock time
        return clock_module.now().replace(tzinfo=clock_module.TOKYO).astimezone(dt.timezone.utc)

    server = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, now=now_utc)
    server.start()
    yield server
    server.stop()
