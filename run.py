"""Command line: `python run.py [web|worker|create-admin NAME|create-api-token LABEL|unlock NAME|allowlist-clear|migrate]`.

Without a command it serves the platform (web + scheduler) on PORT (default 8000).
"""
from __future__ import annotations

import argparse
import getpass
import os
import secrets
import signal
import sys
import threading

os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from core.config import ConfigError

    try:
        return COMMANDS[args.command or "serve"](args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        print("起動を中止しました。config.yaml または環境変数を確認してください。", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run.py", description="IVR + SMS platform")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("serve", help="web + scheduler (the default)")
    sub.add_parser("web", help="web only, no scheduler")
    sub.add_parser("worker", help="scheduler and dispatcher only")
    sub.add_parser("migrate", help="upgrade the database schema and exit")
    admin = sub.add_parser("create-admin", help="create an admin (password from ADMIN_PASSWORD or asked)")
    admin.add_argument("name")
    token = sub.add_parser("create-api-token", help="print a new API token")
    token.add_argument("label")
    unlock = sub.add_parser("unlock", help="unlock an account (the way back when the only admin is locked)")
    unlock.add_argument("name")
    clear = sub.add_parser("allowlist-clear", help="remove IP allowlist rules (the way back after a lock-out)")
    clear.add_argument("--scope", choices=["login", "update", "all"], default="all")
    return p


def build_app():
    from web import create_app

    return create_app()


def seed(app) -> None:
    """First-start data (demo flow, ready-made guidance, storage box 1); idempotent."""
    from core.db import database
    from core.migrate import exclusive
    from web import feature_modules

    with app.app_context(), database.connection_context(), exclusive():
        ensure_first_admin()
        for module in feature_modules():
            if hasattr(module, "seed_defaults"):
                module.seed_defaults(app)


def ensure_first_admin() -> None:
    """With no account at all, make `admin`, so a new user can log in. A generated password is printed once;
    one given in ADMIN_PASSWORD is not (the log would keep it, and whoever set it knows it)."""
    from core.models import User
    from web.auth import hash_password

    if User.select().exists():
        return
    given = os.environ.get("ADMIN_PASSWORD")
    password = given or secrets.token_urlsafe(9)
    User.create(username="admin", display_name="管理者", role="admin", password_hash=hash_password(password))
    if given:
        print("初期管理者アカウントを作成しました: ユーザー名 admin / パスワードは ADMIN_PASSWORD の値", flush=True)
    else:
        print(f"初期管理者アカウントを作成しました: ユーザー名 admin / パスワード {password}", flush=True)
    print("ログイン後、パスワードを変更し、2 つ目の管理者アカウントを作成してください。", flush=True)


def serve(args, with_scheduler: bool = True, with_web: bool = True) -> int:
    app = build_app()
    seed(app)
    settings = app.config["SETTINGS"]
    service = None
    if with_scheduler and settings["scheduler.enabled"]:
        service = start_scheduler(app)
    try:
        if with_web:
            server = web_server(app)
            print(f"{listening_message(bound_addresses(server))} で待ち受けています (Ctrl+C で終了)", flush=True)
            server.run()
        else:
            wait_for_signal()
    finally:
        if service:
            service.shutdown()
    return 0


def web_server(app):
    """waitress on web.host:web.port. It takes in each body before the app sees it (on disk beyond 512 KB), so it
    is told the largest body any route accepts (the app refuses smaller ones over their own route's limit), and
    reads 64 KB at a time instead of 8 KB: a 24 MB body sent to be refused is in after 0.05 s instead of 0.3 s."""
    from waitress import create_server

    settings = app.config["SETTINGS"]
    return create_server(app, host=settings["web.host"], port=settings["web.port"], threads=settings["web.threads"],
                         ident="ivr", max_request_body_size=app.config["MAX_CONTENT_LENGTH"], recv_bytes=65536)


def bound_addresses(server) -> list[tuple[str, int]]:
    """The addresses waitress really listens on (a host name may give several)."""
    listening = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    return [(host, int(port)) for host, port in listening]


def listening_message(addresses: list[tuple[str, int]]) -> str:
    shown = []
    for host, port in addresses:
        if host in ("0.0.0.0", "::"):
            shown.append(f"すべてのインターフェース ({host}) のポート {port}")
        else:
            shown.append(f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/")
    return "、".join(shown)


def start_scheduler(app):
    from core import retention
    from core.scheduler import JobRegistry, SchedulerService
    from web import feature_modules

    registry = JobRegistry()
    retention.register_jobs(registry, app)  # the daily purge runs every package's retention targets
    for module in feature_modules():
        if hasattr(module, "register_jobs"):
            module.register_jobs(registry, app)
    service = SchedulerService(app, registry)
    service.start()
    print(f"スケジューラーを起動しました ({len(registry.jobs)} ジョブ, ID {service.lease.holder})", flush=True)
    return service


def wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def create_admin(args) -> int:
    from core import audit
    from core.db import database
    from core.models import User
    from web.auth import hash_password

    app = build_app()
    with app.app_context(), database.connection_context():
        if User.select().where(User.username == args.name).exists():
            print(f"ユーザー名「{args.name}」は既に存在します。", file=sys.stderr)
            return 1
        password = os.environ.get("ADMIN_PASSWORD") or ask_password()
        minimum = app.config["SETTINGS"]["accounts.min_password_length"]
        if len(password) < minimum:
            print(f"パスワードは {minimum} 文字以上にしてください。", file=sys.stderr)
            return 1
        User.create(username=args.name, display_name=args.name, role="admin", password_hash=hash_password(password))
        audit.record("account.created", args.name, {"role": "admin", "via": "cli"}, actor="cli")
    print(f"管理者「{args.name}」を作成しました。")
    return 0


def ask_password() -> str:
    if not sys.stdin.isatty():
        print("ADMIN_PASSWORD が未設定で、端末から入力もできません。", file=sys.stderr)
        raise SystemExit(1)
    first = getpass.getpass("パスワード: ")
    if first != getpass.getpass("パスワード（確認）: "):
        print("パスワードが一致しません。", file=sys.stderr)
        raise SystemExit(1)
    return first


def create_api_token(args) -> int:
    from core import audit
    from core.db import database
    from core.security import issue_api_token

    app = build_app()
    with app.app_context(), database.connection_context():
        token, raw = issue_api_token(args.label, created_by="cli")
        audit.record("api_token.created", args.label, {"prefix": token.prefix, "via": "cli"}, actor="cli")
    print(raw)
    return 0


def unlock(args) -> int:
    from core import audit
    from core.db import database
    from web.auth import unlock_account

    app = build_app()
    with app.app_context(), database.connection_context():
        if not unlock_account(args.name):
            print(f"ユーザー名「{args.name}」のアカウントはありません。", file=sys.stderr)
            return 1
        audit.record("account.unlocked", args.name, {"via": "cli"}, actor="cli")
    print(f"アカウント「{args.name}」のロックを解除しました。")
    return 0


def allowlist_clear(args) -> int:
    from core import audit
    from core.db import database
    from core.models import IpAllowRule

    app = build_app()
    with app.app_context(), database.connection_context():
        query = IpAllowRule.delete()
        if args.scope != "all":
            query = query.where(IpAllowRule.scope == args.scope)
        removed = query.execute()
        audit.record("ip_allowlist.cleared", args.scope, {"removed": removed}, actor="cli")
    print(f"IP アドレス制限を {removed} 件削除しました ({args.scope})。")
    return 0


def migrate(args) -> int:
    build_app()  # create_app applies pending migrations
    print("データベースは最新です。")
    return 0


COMMANDS = {
    "serve": serve,
    "web": lambda a: serve(a, with_scheduler=False),
    "worker": lambda a: serve(a, with_web=False),
    "create-admin": create_admin,
    "create-api-token": create_api_token,
    "unlock": unlock,
    "allowlist-clear": allowlist_clear,
    "migrate": migrate,
}

if __name__ == "__main__":
    sys.exit(main())
