"""Database access: one proxy, bound at start-up to SQLite (embedded) or PostgreSQL (scaled out).

All timestamps are naive Tokyo wall-clock times (see core.clock).
"""
from __future__ import annotations

from pathlib import Path

from peewee import DatabaseProxy, Model, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect

from core.config import ROOT

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -16000,
}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str):
    """Make a peewee database for a DATABASE_URL; relative SQLite paths are under the project root."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        path = ROOT / url[len("sqlite:///"):]
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        # Pooled: closing the last connection to a WAL database checkpoints it (tens of ms of fsync on every
        # request that closes its connection), and a reused connection skips the pragmas and schema parse.
        db = connect("sqlite+pool" + url[len("sqlite"):], pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                     max_connections=None, stale_timeout=600)
    elif url.startswith("sqlite"):
        db = connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    else:
        db = connect(url)
    return db


def bind_database(url: str):
    """Bind the proxy to the database at `url` and return it."""
    db = open_database(url)
    database.initialize(db)
    return db


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def sqlite_path() -> Path | None:
    return Path(database.obj.database) if is_sqlite() else None


def for_update_skip_locked(query):
    """Row claiming for several workers: SKIP LOCKED on PostgreSQL; SQLite has one writer anyway."""
    if is_postgres():
        return query.for_update("FOR UPDATE SKIP LOCKED")
    return query
