"""Login (R-61, R-65; issue 11 items 3, 4, 5): one answer for every refusal, atomic lock counting under parallel
guesses, a throttle per client address shared through the database, `run.py unlock`, redirects that stay on site."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import pytest

from core.config import ROOT
from core.models import AuditLog, LoginThrottle, User
from tests.conftest import PASSWORD, fixture_password_hash
from web import auth
from web.auth import LOGIN_REFUSED
from web.redirects import same_site_path
from web.throttle import client_key


@pytest.fixture
def make_user_hashed_by_the_app(app):
    """Users with the app's own password hash, the kind the refusals of unknown names check against."""
    def make(username: str = "user", role: str = "staff", password: str = PASSWORD, **kw) -> User:
        return User.create(username=username, role=role, password_hash=auth.hash_password(password), **kw)

    return make


TOKEN = re.compile(r'(name="csrf_token" value="|name="csrf-token" content=")[^"]+"')


def refused_page(app, username: str, password: str, address: str = "127.0.0.1") -> tuple[int, str]:
    """A stranger's attempt from a fresh browser: the page it gets, with the per-request token and the name it
    typed blanked out (both differ between any two requests)."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password},
                           environ_overrides={"REMOTE_ADDR": address})
    page = TOKEN.sub(r'\1…"', response.get_data(as_text=True)).replace(f'value="{username}"', 'value="…"')
    return response.status_code, page


def test_unknown_user_wrong_password_locked_and_disabled_get_the_same_page(app, make_user):
    make_user("known")
    make_user("locked-one", locked_at=User.created_at.default())
    make_user("gone", active=False)
    unknown = refused_page(app, "nobody", "whatever-1")
    assert unknown[0] == 401 and LOGIN_REFUSED in unknown[1]
    assert refused_page(app, "known", "wrong-password") == unknown
    assert refused_page(app, "locked-one", PASSWORD) == unknown  # even the right password tells nothing
    assert refused_page(app, "gone", PASSWORD) == unknown
    assert "あと" not in unknown[1] and "ロックされています" not in unknown[1] and "無効" not in unknown[1]


def test_every_refusal_does_the_same_work(app, make_user_hashed_by_the_app, monkeypatch):
    """One password hash of the same kind, and the failure counted against the typed name, whatever the reason."""
    make_user = make_user_hashed_by_the_app
    make_user("known")
    make_user("locked-one", locked_at=User.created_at.default())
    make_user("gone", active=False)
    hashes, counted = [], []
    real_check, real_count = auth.check_password_hash, auth.count_failure
    monkeypatch.setattr(auth, "check_password_hash", lambda h, p: hashes.append(h.split("$")[0]) or real_check(h, p))
    monkeypatch.setattr(auth, "count_failure", lambda name: counted.append(name) or real_count(name))
    for name, password in [("nobody", "x-password"), ("known", "wrong"), ("locked-one", PASSWORD), ("gone", PASSWORD)]:
        app.test_client().login(name, password)
    method = User.get(User.username == "known").password_hash.split("$")[0]
    assert hashes == [method] * 4
    assert counted == ["nobody", "known", "locked-one", "gone"]


def test_failed_logins_are_in_the_audit_log_with_their_reason(app, make_user):
    make_user("known")
    app.test_client().login("nobody", "x-password")
    app.test_client().login("known", "wrong")
    rows = AuditLog.select().where(AuditLog.action == "login.failed").order_by(AuditLog.id)
    assert [(r.target, r.detail, r.actor, r.ip) for r in rows] == [
        ("nobody", '{"reason": "unknown_user"}', "", "127.0.0.1"),
        ("known", '{"reason": "wrong_password"}', "", "127.0.0.1")]


# --- redirects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("target", ["/%09/evil.example/x", "/%0d%0a/x", "/%0a/evil.example", "//evil.example/x",
                                    "/%5Cevil.example", "https://evil.example/", "javascript:alert(1)",
                                    "evil.example", "/%7F/evil.example", "%20//evil.example"])
def test_next_leaving_the_site_or_holding_control_characters_goes_home(client, make_user, target):
    make_user("taro")
    response = client.post(f"/login?next={target}", data={"username": "taro", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_on_the_site_is_followed(client, make_user):
    make_user("taro")
    response = client.post("/login?next=/sms/boxes%3Fpage%3D2", data={"username": "taro", "password": PASSWORD})
    assert response.headers["Location"] == "/sms/boxes?page=2"


@pytest.mark.parametrize("target, expected", [
    ("/sms/boxes?page=2#top", "/sms/boxes?page=2#top"), ("/", "/"), ("/\t/evil.example", None),
    ("/\r\n/x", None), ("/\\evil.example", None), ("///evil.example", None), ("/\u0085x", None),
    ("http:/evil.example", None), ("", None), (None, None), ("/" + "a" * 3000, None)])
def test_same_site_path(target, expected):
    assert same_site_path(target) == expected


def test_a_page_behind_login_sends_back_to_itself_after_it(client, make_user):
    make_user("taro")
    first = client.get("/sms/boxes?q=%E3%81%82")
    assert first.status_code == 302 and "next=" in first.headers["Location"]
    login_page = first.headers["Location"]
    response = client.post(login_page, data={"username": "taro", "password": PASSWORD})
    assert response.headers["Location"] == "/sms/boxes?q=%E3%81%82"


# --- the throttle ---------------------------------------------------------------------------------------------------
def attempt(app, username: str, password: str, address: str):
    return app.test_client().post("/login", data={"username": username, "password": password},
                                  environ_overrides={"REMOTE_ADDR": address})


def test_the_throttle_holds_a_client_for_the_rest_of_its_window(app, make_user, clock):
    make_user("taro")
    make_user("hanako")
    for n in range(9):
        assert attempt(app, f"guess-{n}", "x-password", "203.0.113.5").status_code == 401
    assert attempt(app, "taro", PASSWORD, "203.0.113.5").status_code == 302  # a success uses none of the allowance
    assert attempt(app, "guess-9", "x-password", "203.0.113.5").status_code == 401  # the 10th failure
    held = attempt(app, "hanako", PASSWORD, "203.0.113.5")
    assert held.status_code == 429 and held.headers["Retry-After"] == "900"
    assert "15 分ほど待ってから" in held.get_data(as_text=True)
    assert attempt(app, "hanako", PASSWORD, "198.51.100.7").status_code == 302  # another client is not held
    clock.advance(minutes=14)
    later = attempt(app, "hanako", PASSWORD, "203.0.113.5")
    assert later.status_code == 429 and later.headers["Retry-After"] == "60"
    clock.advance(minutes=1)
    assert attempt(app, "hanako", PASSWORD, "203.0.113.5").status_code == 302
    throttled = AuditLog.select().where(AuditLog.action == "login.throttled")
    assert [(r.target, r.ip) for r in throttled] == [("203.0.113.5", "203.0.113.5")]  # once a window, not each try


def test_an_ipv6_client_is_counted_by_its_64_block():
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_key("203.0.113.5") == "203.0.113.5"


def test_the_throttle_is_kept_in_the_database_for_every_process(app, app_config, database_url):
    from web import create_app

    for n in range(10):
        attempt(app, f"guess-{n}", "x-password", "203.0.113.9")
    assert LoginThrottle.get(LoginThrottle.client == "203.0.113.9").attempts == 10
    another = create_app({**app_config, "database.url": database_url})  # as a second `run.py web` would start
    another.test_client_class = type(app.test_client())
    refused = another.test_client().post("/login", data={"username": "a", "password": "b"},
                                         environ_overrides={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 429


# --- parallel guesses against a live server -------------------------------------------------------------------------
def parallel_wrong_passwords(base: str, username: str, count: int) -> list:
    """`count` wrong passwords at once from one browser session (threads released together)."""
    import requests

    session = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', session.get(base + "/login").text).group(1)
    start = threading.Barrier(count)
    answers = [None] * count

    def guess(i: int):
        start.wait()
        answers[i] = session.post(base + "/login", data={"csrf_token": token, "username": username,
                                                         "password": f"wrong-{i}"}, allow_redirects=False)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def live_login(base: str, username: str, password: str) -> int:
    import requests

    session = requests.Session()
    token = re.search(r'name="csrf-token" content="([^"]+)"', session.get(base + "/login").text).group(1)
    return session.post(base + "/login", data={"csrf_token": token, "username": username, "password": password},
                        allow_redirects=False).status_code


def test_24_parallel_wrong_passwords_all_count_and_leave_the_account_locked(live_server, database_url):
    from core.db import database

    app = live_server.app
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"accounts.login_throttle_attempts": 100})
    with app.app_context(), database.connection_context():
        User.create(username="target", role="admin", password_hash=fixture_password_hash())
    answers = parallel_wrong_passwords(live_server.url, "target", 24)
    assert [a.status_code for a in answers] == [401] * 24
    assert live_login(live_server.url, "target", PASSWORD) == 401
    with app.app_context(), database.connection_context():
        user = User.get(User.username == "target")
        assert user.is_locked and user.failed_logins == 25  # every guess counted, and the right password after them
        assert AuditLog.select().where(AuditLog.action == "account.locked").count() == 1

    env = {**os.environ, "DATABASE_URL": database_url, "TWILIO_AUTH_TOKEN": "t", "SECRET_KEY": "s"}
    unlocked = subprocess.run([sys.executable, "run.py", "unlock", "target"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "アカウント「target」のロックを解除しました。" in unlocked.stdout
    assert live_login(live_server.url, "target", PASSWORD) == 302
    missing = subprocess.run([sys.executable, "run.py", "unlock", "nobody"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 1 and "「nobody」のアカウントはありません" in missing.stderr


def test_parallel_guesses_from_one_address_stop_at_the_throttle(live_server):
    from core.db import database

    with live_server.app.app_context(), database.connection_context():
        User.create(username="target", role="staff", password_hash=fixture_password_hash())
    answers = parallel_wrong_passwords(live_server.url, "target", 24)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [401] * 10 + [429] * 14  # accounts.login_throttle_attempts: 10, however they interleave
    assert all(int(a.headers["Retry-After"]) > 0 for a in answers if a.status_code == 429)
    with live_server.app.app_context(), database.connection_context():
        user = User.get(User.username == "target")
        assert user.failed_logins == 10 and user.is_locked
