"""Sessions end (R-65, issue 11 items 2 and 10): a cookie copied before logout, password change, disable, lock or an
admin's reset is refused after it; idle and absolute lifetimes; CSRF secrets and tokens."""
from __future__ import annotations

import re
import time

import itsdangerous
import pytest

from core.models import User
from tests.conftest import PASSWORD
from web import sessions
from web.sessions import ENDED_MESSAGES

PAGE = "/sms/boxes"


class WallClock:
    """The wall time session lifetimes are measured in, moved by the test (core.clock is business time)."""

    def __init__(self):
        self.offset = 0

    def advance(self, minutes: int) -> None:
        self.offset += minutes * 60

    def now(self) -> int:
        return int(time.time()) + self.offset


@pytest.fixture
def wall(monkeypatch):
    moved = WallClock()
    monkeypatch.setattr(sessions, "seconds_now", moved.now)
    return moved


def logged_in(app, make_user, username: str, role: str = "staff"):
    make_user(username, role)
    client = app.test_client()
    assert client.login(username, PASSWORD).status_code == 302
    return client


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def opens(client, path: str = PAGE) -> bool:
    return client.get(path).status_code == 200


def test_a_cookie_copied_before_logout_is_refused_after_it(app, make_user):
    owner = logged_in(app, make_user, "taro")
    other_device = logged_in(app, make_user, "taro-2")  # someone else's session is untouched
    thief = copy_of(app, owner)
    assert opens(thief)
    assert owner.post("/logout").status_code == 302
    refused = thief.get(PAGE)
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert ENDED_MESSAGES["ended"] in thief.get(refused.headers["Location"]).get_data(as_text=True)
    assert opens(other_device)


def test_logout_ends_every_session_of_the_account(app, make_user):
    first = logged_in(app, make_user, "hanako")
    second = app.test_client()
    assert second.login("hanako", PASSWORD).status_code == 302
    first.post("/logout")
    assert not opens(second)


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    owner = logged_in(app, make_user, "jiro")
    thief = copy_of(app, owner)
    response = owner.post("/account/password", data={"current": PASSWORD, "new": "new-password-9",
                                                      "confirm": "new-password-9"})
    assert response.status_code == 302
    assert opens(owner)
    assert not opens(thief)
    assert opens(copy_of(app, owner))  # the cookie the change gave out is the one that now works


@pytest.mark.parametrize("change", ["disable", "reset"])
def test_an_admin_disabling_or_resetting_an_account_ends_its_sessions(app, make_user, admin_client, change):
    victim_session = logged_in(app, make_user, "saburo")
    thief = copy_of(app, victim_session)
    user = User.get(User.username == "saburo")
    form = {"display_name": "", "role": "staff", "active": "1"}
    if change == "disable":
        del form["active"]
    else:
        form.update(password="reset-password-1", confirm="reset-password-1")
    assert admin_client.post(f"/admin/users/{user.id}", data=form).status_code == 302
    assert not opens(victim_session) and not opens(thief)
    if change == "reset":
        assert app.test_client().login("saburo", "reset-password-1").status_code == 302


def test_an_admin_resetting_their_own_password_stays_logged_in_here_only(app, admin_client):
    me = User.get(User.username == "admin1")
    thief = copy_of(app, admin_client)
    form = {"display_name": "", "role": "admin", "active": "1", "password": "own-reset-1", "confirm": "own-reset-1"}
    assert admin_client.post(f"/admin/users/{me.id}", data=form).status_code == 302
    assert opens(admin_client, "/admin/users") and not opens(thief)


def test_the_lock_ends_the_sessions_and_an_unlock_does_not_bring_them_back(app, make_user, admin_client):
    owner = logged_in(app, make_user, "shiro")
    thief = copy_of(app, owner)
    for _ in range(5):
        app.test_client().login("shiro", "wrong-password")
    assert User.get(User.username == "shiro").is_locked
    assert not opens(owner) and not opens(thief)
    user = User.get(User.username == "shiro")
    assert admin_client.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert not opens(thief)
    assert app.test_client().login("shiro", PASSWORD).status_code == 302


def test_an_account_disabled_or_locked_in_the_database_is_refused_at_once(app, make_user):
    client = logged_in(app, make_user, "goro")
    User.update(active=False).where(User.username == "goro").execute()
    assert not opens(client)
    client = logged_in(app, make_user, "rokuro")
    User.update(locked_at=User.created_at).where(User.username == "rokuro").execute()
    assert not opens(client)


def test_an_idle_session_ends(app, make_user, wall, clock):
    client = logged_in(app, make_user, "idle")
    clock.advance(days=3)  # business time is not what a session lasts by
    assert opens(client)
    wall.advance(minutes=350)
    assert opens(client)  # each request counts as activity
    wall.advance(minutes=350)
    assert opens(client)
    wall.advance(minutes=481)  # web.session_minutes: 480
    refused = client.get(PAGE)
    assert refused.status_code == 302
    assert ENDED_MESSAGES["expired"] in client.get(refused.headers["Location"]).get_data(as_text=True)


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, make_user, wall):
    client = logged_in(app, make_user, "busy")
    for _ in range(11):
        wall.advance(minutes=60)
        assert opens(client)
    wall.advance(minutes=61)  # 12 h 01 min after the login (web.session_absolute_hours: 12)
    assert not opens(client)
    again = app.test_client()
    assert again.login("busy", PASSWORD).status_code == 302 and opens(again)


def test_the_visitors_csrf_secret_is_replaced_at_login(app, make_user):
    make_user("csrf", "admin")
    client = app.test_client()
    before = client.csrf_token()
    assert client.login("csrf", PASSWORD).status_code == 302
    stale = client.post("/admin/tokens", data={"label": "a", "csrf_token": before})
    assert stale.status_code == 400
    assert client.post("/admin/tokens", data={"label": "b"}).status_code == 200  # a token of the new secret


def test_a_form_left_open_too_long_gets_a_japanese_message(app, make_user, monkeypatch):
    client = logged_in(app, make_user, "slow", "admin")
    token = client.csrf_token()
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 480 * 60  # as long as an idle login (web.session_minutes)
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600  # the cookie outlives the form's token
    later = int(time.time()) + 480 * 60 + 5
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/admin/tokens", data={"label": "late", "csrf_token": token})
    assert response.status_code == 400
    assert "画面を開いてから時間が経ったため、送信を受け付けられませんでした" in response.get_data(as_text=True)


def test_a_login_page_left_open_too_long_asks_again_keeping_the_name(app, make_user, monkeypatch):
    make_user("late")
    client = app.test_client()
    token = client.csrf_token()
    later = int(time.time()) + 480 * 60 + 5
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: later)
    response = client.post("/login", data={"username": "late", "password": PASSWORD, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "もう一度ログインしてください" in page
    assert 'value="late"' in page
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    again = client.post("/login", data={"username": "late", "password": PASSWORD, "csrf_token": fresh})
    assert again.status_code == 302
