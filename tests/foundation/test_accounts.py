import pytest

from core.models import AuditLog, User
from tests.conftest import PASSWORD
from web.auth import LOGIN_REFUSED


def wrong_logins(client, username, times):
    return [client.login(username, "wrong-password") for _ in range(times)]


def test_fourth_wrong_password_does_not_lock_the_fifth_does(app, client, make_user):
    make_user("taro", "staff")
    responses = wrong_logins(client, "taro", 4)
    assert all(r.status_code == 401 and LOGIN_REFUSED in r.get_data(as_text=True) for r in responses)
    assert User.get(User.username == "taro").locked_at is None
    assert client.login("taro", PASSWORD).status_code == 302  # still usable after 4 mistakes

    other = app.test_client()
    wrong_logins(other, "taro", 5)
    user = User.get(User.username == "taro")
    assert user.locked_at is not None
    locked = app.test_client().login("taro", PASSWORD)
    assert locked.status_code == 401
    assert LOGIN_REFUSED in locked.get_data(as_text=True)  # the lock is not told apart, even to the right password
    assert AuditLog.select().where(AuditLog.action == "account.locked", AuditLog.target == "taro").count() == 1


def test_correct_password_resets_the_count(client, make_user):
    make_user("hanako")
    wrong_logins(client, "hanako", 3)
    assert client.login("hanako", PASSWORD).status_code == 302
    assert User.get(User.username == "hanako").failed_logins == 0


def test_locked_admin_cannot_log_in_until_another_admin_unlocks(app, make_user, admin_client):
    locked = make_user("boss", "admin")
    wrong_logins(app.test_client(), "boss", 5)
    assert app.test_client().login("boss", PASSWORD).status_code == 401

    page = admin_client.get("/admin/users").get_data(as_text=True)
    assert "ロック中" in page
    response = admin_client.post(f"/admin/users/{locked.id}/unlock")
    assert response.status_code == 302
    assert app.test_client().login("boss", PASSWORD).status_code == 302
    assert AuditLog.select().where(AuditLog.action == "account.unlocked", AuditLog.target == "boss").exists()


@pytest.mark.parametrize("role", ["staff", "manager"])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/tokens", "/admin/ip", "/admin/holidays", "/admin/audit"])
def test_staff_and_managers_cannot_reach_admin_pages(app, make_user, role, path):
    make_user(f"{role}x", role)
    client = app.test_client()
    client.login(f"{role}x", PASSWORD)
    assert client.get(path).status_code == 403


def test_unlock_is_refused_to_non_admins(app, make_user, staff_client):
    victim = make_user("v", "staff")
    assert staff_client.post(f"/admin/users/{victim.id}/unlock").status_code == 403


def test_form_post_without_csrf_token_is_refused(admin_client):
    response = admin_client.post("/admin/tokens", data={"label": "x"}, csrf=False)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True) or "リクエストが正しくありません" in response.get_data(as_text=True)


def test_login_without_csrf_token_is_refused(client, make_user):
    make_user("csrf-user")
    response = client.post("/login", data={"username": "csrf-user", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400


def test_warning_while_only_one_admin_exists(admin_client, make_user):
    assert "管理者アカウントが 1 つしかありません" in admin_client.get("/admin/users").get_data(as_text=True)
    make_user("second-admin", "admin")
    assert "しかありません" not in admin_client.get("/admin/users").get_data(as_text=True)


def test_admin_creates_an_account_and_bad_input_is_kept(admin_client):
    bad = admin_client.post("/admin/users/new", data={"username": "new-op", "display_name": "新人", "role": "staff",
                                                       "password": "short", "confirm": "short"})
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "8 文字以上" in body and 'value="新人"' in body
    ok = admin_client.post("/admin/users/new", data={"username": "new-op", "display_name": "新人", "role": "staff",
                                                      "password": "long-enough-1", "confirm": "long-enough-1"})
    assert ok.status_code == 302
    assert User.get(User.username == "new-op").role == "staff"


def test_last_admin_cannot_be_demoted(admin_client):
    me = User.get(User.username == "admin1")
    response = admin_client.post(f"/admin/users/{me.id}", data={"role": "staff", "active": "1"})
    assert response.status_code == 400
    assert "最後の管理者" in response.get_data(as_text=True)
    assert User.get_by_id(me.id).role == "admin"


def test_session_cookie_is_http_only_and_secure_behind_https(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_secure_cookie_when_public_url_is_https(tmp_path):
    from web import create_app

    secured = create_app({"web.public_base_url": "https://ivr.example.jp", "database.url": f"sqlite:///{tmp_path}/s.db",
                          "twilio.auth_token": "t"})
    assert secured.config["SESSION_COOKIE_SECURE"] is True
