"""Databases stopped at an old migration, filled the way the code of that time wrote them, for upgrade tests."""
from __future__ import annotations

from contextlib import contextmanager

from playhouse.migrations import Runner

from core.db import bind_database, database
from core.migrate import MIGRATIONS_DIR


@contextmanager
def schema_at(url: str, target: str | None, directory=MIGRATIONS_DIR):
    """Bind `url`, migrate it up to `target` (every migration when None) and keep a connection open inside."""
    bind_database(url)
    with database.connection_context():
        Runner(database.obj, directory=str(directory)).up(target=target)
        yield


def insert(table: str, **values) -> int:
    """One row by raw SQL: today's models have columns the old schema lacks (or lack ones it required)."""
    names = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join([database.obj.param] * len(values))
    cursor = database.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', tuple(values.values()))
    return cursor.lastrowid
