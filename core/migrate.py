"""Schema upgrades: numbered files in migrations/, applied in order by playhouse.migrations."""
from __future__ import annotations

import contextlib
import fcntl
from pathlib import Path

from playhouse.migrations import Runner

from core.config import ROOT
from core.db import database, is_postgres, sqlite_path
from core.files import make_private

MIGRATIONS_DIR = ROOT / "migrations"
PG_MIGRATION_LOCK = 727_001  # advisory lock key: only one process upgrades at a time


def upgrade_schema() -> list[str]:
    """Apply every pending migration; returns the names applied (existing rows are kept)."""
    with exclusive():
        runner = Runner(database.obj, directory=str(MIGRATIONS_DIR))
        return runner.up() or []


@contextlib.contextmanager
def exclusive():
    """One process at a time (schema upgrades, first-start seeding): the second waits, then finds nothing to do."""
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_lock(%s)", (PG_MIGRATION_LOCK,))
        try:
            yield
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (PG_MIGRATION_LOCK,))
        return
    path = sqlite_path()
    if path is None or str(path) == ":memory:":
        yield
        return
    lock = Path(f"{path}.migrate.lock")
    make_private(lock)  # like the database beside it (var/app.db*), though it holds nothing
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
