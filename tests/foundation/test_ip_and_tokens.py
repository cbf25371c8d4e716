import os
import subprocess
import sys

import pytest

from core.config import ROOT
from core.models import ApiToken, IpAllowRule
from core.security import issue_api_token
from tests.conftest import PASSWORD
from web.ipallow import allowed


@pytest.mark.parametrize(
    "address, cidrs, ok",
    [("203.0.113.5", [], True), ("203.0.113.5", ["203.0.113.0/24"], True), ("198.51.100.1", ["203.0.113.0/24"], False),
     ("2001:db8::1", ["2001:db8::/32"], True), ("garbage", ["203.0.113.0/24"], False)],
)
def test_allowed(address, cidrs, ok):
    assert allowed(address, cidrs) is ok


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_login_allowlist_blocks_other_addresses(app, make_user):
    make_user("op", "staff")
    IpAllowRule.create(scope="login", cidr="203.0.113.0/24")
    outside = client_from(app, "198.51.100.7")
    response = outside.get("/login")
    assert response.status_code == 403
    assert "198.51.100.7" in response.get_data(as_text=True)
    inside = client_from(app, "203.0.113.9")
    assert inside.login("op", PASSWORD).status_code == 302


def test_update_allowlist_blocks_changes_but_not_reading(app, make_user):
    make_user("adm", "admin")
    IpAllowRule.create(scope="update", cidr="203.0.113.0/24")
    outside = client_from(app, "198.51.100.7")
    assert outside.login("adm", PASSWORD).status_code == 302
    assert outside.get("/admin/tokens").status_code == 200
    assert outside.post("/admin/tokens", data={"label": "x"}).status_code == 403
    assert ApiToken.select().count() == 0


def test_webhooks_and_api_are_not_subject_to_the_allowlist(app):
    IpAllowRule.create(scope="login", cidr="203.0.113.0/24")
    outside = client_from(app, "198.51.100.7")
    assert outside.get("/api/v1/openapi.json").status_code == 200
    assert outside.get("/healthz").status_code == 200


def test_admin_cannot_add_a_rule_that_locks_themself_out(admin_client):
    admin_client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    response = admin_client.post("/admin/ip", data={"scope": "login", "cidr": "203.0.113.0/24"})
    assert "含まれていない" in response.get_data(as_text=True)
    assert IpAllowRule.select().count() == 0
    bad = admin_client.post("/admin/ip", data={"scope": "login", "cidr": "300.1.2.3"})
    assert "形式が正しくありません" in bad.get_data(as_text=True)


def test_trusted_proxy_count_decides_the_client_address(tmp_path, database_url, app_config):
    from web import create_app

    proxied = create_app({**app_config, "database.url": database_url, "web.trusted_proxies": 1})
    with proxied.app_context():
        from core.db import database

        with database.connection_context():
            IpAllowRule.create(scope="login", cidr="203.0.113.0/24")
    client = proxied.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    assert client.get("/login", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200
    assert client.get("/login", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 403


@pytest.mark.sqlite_only
def test_cli_allowlist_clear_is_the_way_back(tmp_path):
    db_url = f"sqlite:///{tmp_path}/cli.db"
    env = {**os.environ, "DATABASE_URL": db_url, "TWILIO_AUTH_TOKEN": "t", "SECRET_KEY": "s"}
    run = lambda *args: subprocess.run([sys.executable, "run.py", *args], cwd=ROOT, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    assert run("migrate").returncode == 0
    from core.db import bind_database, database

    bind_database(db_url)
    with database.connection_context():
        IpAllowRule.create(scope="login", cidr="203.0.113.0/24")
        IpAllowRule.create(scope="update", cidr="203.0.113.0/24")
    result = run("allowlist-clear")
    assert result.returncode == 0, result.stderr
    assert "2 件削除" in result.stdout
    with database.connection_context():
        assert IpAllowRule.select().count() == 0


def test_api_without_token_with_revoked_token_and_with_valid_token(client):
    token, raw = issue_api_token("integration")
    revoked, revoked_raw = issue_api_token("old")
    from core import clock

    ApiToken.update(revoked_at=clock.now()).where(ApiToken.id == revoked.id).execute()

    none = client.get("/api/v1/whoami")
    assert none.status_code == 401 and none.json["error"]["code"] == "unauthorized"
    assert "Bearer" in none.json["error"]["message"]
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {revoked_raw}"}).status_code == 401
    ok = client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {raw}"})
    assert ok.status_code == 200 and ok.json["token"] == "integration"
    assert ApiToken.get_by_id(token.id).last_used_at is not None
    assert ApiToken.get_by_id(token.id).token_hash != raw  # only the hash is stored


def test_admin_issues_and_revokes_a_token_in_the_ui(admin_client, client):
    page = admin_client.post("/admin/tokens", data={"label": "基幹システム"}).get_data(as_text=True)
    raw = page.split('id="new-token">')[1].split("<")[0]
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {raw}"}).status_code == 200
    token = ApiToken.get(ApiToken.label == "基幹システム")
    admin_client.post(f"/admin/tokens/{token.id}/revoke")
    assert client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


@pytest.mark.sqlite_only
def test_cli_create_admin_and_create_api_token(tmp_path):
    db_url = f"sqlite:///{tmp_path}/cli2.db"
    env = {**os.environ, "DATABASE_URL": db_url, "TWILIO_AUTH_TOKEN": "t", "SECRET_KEY": "s", "ADMIN_PASSWORD": "cli-password-1"}
    made = subprocess.run([sys.executable, "run.py", "create-admin", "yamada"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert made.returncode == 0, made.stderr
    printed = subprocess.run([sys.executable, "run.py", "create-api-token", "batch"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    raw = printed.stdout.strip().splitlines()[-1]
    assert raw.startswith("ivr_")
    from core.db import bind_database, database
    from core.models import User
    from core.security import find_api_token

    bind_database(db_url)
    with database.connection_context():
        assert User.get(User.username == "yamada").role == "admin"
        assert find_api_token(raw).label == "batch"
