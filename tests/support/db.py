"""Test databases: a migrated SQLite template copied per test; PostgreSQL when one is reachable."""
from __future__ import annotations

import os
import shutil
import socket
import uuid
from pathlib import Path

PG_HOST, PG_PORT = "127.0.0.1", 5432


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            pass
    except OSError:
        return False
    try:
        import psycopg2

        psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", connect_timeout=2).close()
        return True
    except Exception:
        return False


def migrate(url: str) -> None:
    from core.db import bind_database, database
    from core.migrate import upgrade_schema

    bind_database(url)
    with database.connection_context():
        upgrade_schema()


def make_sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrate(f"sqlite:///{path}")
    from core.db import database

    database.obj.close()
    return path


def sqlite_copy(template: Path, target: Path) -> str:
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{template}{suffix}")
        if src.exists():
            shutil.copy(src, f"{target}{suffix}")
    return f"sqlite:///{target}"


class PostgresTestDatabase:
    """One database per test session; tables emptied between tests."""

    def __init__(self):
        self.name = f"ivr_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{self.name}"

    def create(self) -> None:
        self._admin(f'CREATE DATABASE "{self.name}"')
        migrate(self.url)

    def truncate_all(self) -> None:
        from core.db import database

        # DELETE with foreign-key triggers off, then every sequence back to 1: the same end state as
        # TRUNCATE ... RESTART IDENTITY, but about 20 times faster on tables this small (TRUNCATE makes new files).
        with database.connection_context():
            tables = [t for t in database.get_tables() if t != "schema_migration"]
            if tables:
                database.execute_sql(
                    "SET session_replication_role = replica;"
                    + "".join(f'DELETE FROM "{t}";' for t in tables)
                    + "SET session_replication_role = DEFAULT;"
                    + "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c WHERE c.relkind = 'S';")

    def drop(self) -> None:
        from core.db import database

        if database.obj is not None and not database.is_closed():
            database.close()
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _admin(sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()
