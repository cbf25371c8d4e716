"""Issue 11 item 10: files made private from their first byte, the first admin's password printed only when it was
generated, secrets masked on the settings page, and the start message naming the address really bound."""
from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

import run
from core.config import SCHEMA
from core.files import read_or_create_private
from core.models import User


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask, so only the mode a file was created with protects it."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_secret_file_is_private_from_its_first_byte(tmp_path, open_umask, monkeypatch):
    monkeypatch.setattr(os, "chmod", lambda *a, **k: pytest.fail("a chmod after creation leaves a window"))
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: pytest.fail("a chmod after creation leaves a window"))
    secret = tmp_path / "var" / "secret_key"
    assert read_or_create_private(secret, b"first") == b"first"
    assert mode(secret) == 0o600
    assert read_or_create_private(secret, b"second") == b"first"  # made once, read ever after
    assert [p.name for p in secret.parent.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_processes_racing_to_make_a_secret_all_read_the_same_one(tmp_path):
    secret = tmp_path / "secret"
    start = threading.Barrier(8)
    seen = []

    def make(n: int):
        start.wait()
        seen.append(read_or_create_private(secret, f"value-{n}".encode()))

    threads = [threading.Thread(target=make, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(seen)) == 1 and seen[0] == secret.read_bytes()


@pytest.mark.sqlite_only
def test_the_sqlite_database_and_its_journals_are_private(tmp_path, open_umask, app_config):
    from core.db import database
    from web import create_app

    create_app({**app_config, "database.url": f"sqlite:///{tmp_path}/app.db"})
    with database.connection_context():
        User.create(username="x", password_hash="x")
        files = sorted(tmp_path.glob("app.db*"))
        assert [f.name for f in files] == ["app.db", "app.db-shm", "app.db-wal", "app.db.migrate.lock"]
        assert all(mode(f) == 0o600 for f in files), {f.name: oct(mode(f)) for f in files}


@pytest.mark.sqlite_only
def test_an_existing_database_readable_by_others_is_narrowed(tmp_path, app_config):
    from web import create_app

    path = tmp_path / "old.db"
    create_app({**app_config, "database.url": f"sqlite:///{path}"})
    for name in ("old.db", "old.db-wal", "old.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).chmod(0o644)
    create_app({**app_config, "database.url": f"sqlite:///{path}"})
    assert mode(path) == 0o600 and all(mode(p) == 0o600 for p in tmp_path.glob("old.db-*"))


def test_a_generated_first_password_is_printed_once(app, capsys, monkeypatch):
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    run.ensure_first_admin()
    out = capsys.readouterr().out
    password = out.split("パスワード ")[1].split()[0]
    assert app.test_client().login("admin", password).status_code == 302
    run.ensure_first_admin()
    assert capsys.readouterr().out == ""


def test_a_first_password_from_admin_password_is_not_printed(app, capsys, monkeypatch):
    monkeypatch.setenv("ADMIN_PASSWORD", "given-password-7")
    run.ensure_first_admin()
    out = capsys.readouterr().out
    assert "given-password-7" not in out and "ADMIN_PASSWORD の値" in out
    assert app.test_client().login("admin", "given-password-7").status_code == 302


def test_the_settings_page_masks_secrets_and_a_password_in_a_url(app, admin_client):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{
        "database.url": "postgresql://ivr:pg-s3cret@db.example:5432/ivr?sslpassword=key-s3cret",
        "twilio.auth_token": "twilio-s3cret", "web.secret_key": "flask-s3cret"})
    page = admin_client.get("/admin/settings").get_data(as_text=True)
    assert "s3cret" not in page
    assert "postgresql://ivr:********@db.example:5432/ivr?sslpassword=********" in page
    assert 'accounts.min_password_length</small></td><td class="value">8 文字<' in page  # no secret: shown


def test_the_default_bind_is_the_local_address_and_the_message_says_what_is_bound(app):
    assert SCHEMA["web.host"].default == "127.0.0.1"
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"web.port": 0})
    server = run.web_server(app)
    try:
        (host, port), = run.bound_addresses(server)
        assert host == "127.0.0.1" and port > 0
        assert run.listening_message(run.bound_addresses(server)) == f"http://127.0.0.1:{port}/"
    finally:
        server.close()
    assert run.listening_message([("0.0.0.0", 8000)]) == "すべてのインターフェース (0.0.0.0) のポート 8000"
    assert run.listening_message([("::1", 8000), ("127.0.0.1", 8000)]) == "http://[::1]:8000/、http://127.0.0.1:8000/"

