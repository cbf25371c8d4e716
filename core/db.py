"""Database access: one proxy, bound at start-up to SQLite (embedded) or PostgreSQL (scaled out).

All timestamps are naive Tokyo wall-clock times (see core.clock).
"""
from __future__ import annotations

import io
import itertools
import re
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, has_app_context
from peewee import DatabaseProxy, Model, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import connect, register_database
from playhouse.pool import PooledPostgresqlDatabase

from core.config import ROOT
from core.files import make_private

database = DatabaseProxy()

# Set on every new connection, the busy timeout first so the others wait for locks instead of failing.
# WAL is not among them: it is kept in the file, and asking for it needs a lock that SQLite may refuse at
# once, without waiting, while another process recovers the file (two workers starting, one killed).
SQLITE_PRAGMAS = {
    "busy_timeout": 10000,
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -16000,
}
WAL_ATTEMPTS = 100  # x 0.1 s
POSTGRES_STALE_SECONDS = 300  # a pooled PostgreSQL connection idle this long is closed, not reused
MAX_ID = 2**31 - 1  # the largest value of an integer column (ids are 32-bit serials on PostgreSQL)
# SQLite has one writer at a time. Threads of this process queue for it here, woken the moment it is free;
# left to SQLite, a waiting connection sleeps in steps of up to 100 ms (tens of ms of p99 under 4 threads).
_sqlite_writer = threading.RLock()
# PostgreSQL connection → the names of its prepared statements (None: not known after an error); see execute_prepared.
_prepared: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class PostgresPool(PooledPostgresqlDatabase):
    """peewee's pool, with two round trips to the server fewer on every request that writes.

    * peewee's pool sends `SELECT 1` on every check-out to see whether the connection still lives, holding the
      pool's lock (every thread waits for it). Here a connection handed back less than PING_AFTER_IDLE_SECONDS
      ago is taken as it is (a connection the server dropped is still seen: psycopg2 marks it closed, or its
      state unknown, after the error).
    * A transaction's BEGIN goes with its first statement ("BEGIN;SELECT ...") instead of on its own; a
      transaction that ran nothing sends neither BEGIN nor COMMIT. A cursor taken for direct use gets its
      BEGIN first, so no statement ever runs outside the transaction it was written in.
    * `execute_and_commit`: a hot path that knows its last statements sends the COMMIT with them.
    """

    PING_AFTER_IDLE_SECONDS = 10.0

    def __init__(self, *args, **kwargs):
        self._returned_at: dict[int, float] = {}
        self._deferred = threading.local()  # .begin: this thread's BEGIN not sent yet
        super().__init__(*args, **kwargs)

    def begin(self, isolation_level=None):
        if isolation_level or self._isolation_level:
            return super().begin(isolation_level)
        self.connection()  # connect now, as BEGIN would have: connecting later would forget the transaction
        self._deferred.begin = True
        return None

    def _take_deferred_begin(self) -> bool:
        pending = getattr(self._deferred, "begin", False)
        self._deferred.begin = False
        return pending

    def _execute_cursor(self, sql, params, **cursor_options):
        if self._take_deferred_begin():
            sql = "BEGIN;" + sql
        if getattr(self._deferred, "committed", False):
            # A statement after an early commit (below) starts a transaction of its own, committed by peewee.
            self._deferred.committed = False
            sql = "BEGIN;" + sql
        return super()._execute_cursor(sql, params, **cursor_options)

    def execute_and_commit(self, sql, params) -> bool:
        """Run the last statements of the open transaction and its COMMIT in one round trip; the transaction's own
        commit then sends nothing. Only at the outermost level (False, nothing sent, inside a savepoint)."""
        if self.transaction_depth() != 1:
            return False
        self.execute_sql(sql + ";COMMIT", params)
        self._deferred.committed = True
        return True

    def cursor(self, named_cursor=None):
        cursor = super().cursor(named_cursor)
        if self._take_deferred_begin():
            cursor.execute("BEGIN")
        return cursor

    def _take_committed(self) -> bool:
        committed = getattr(self._deferred, "committed", False)
        self._deferred.committed = False
        return committed

    def commit(self):
        if not self._take_deferred_begin() and not self._take_committed():
            super().commit()

    def rollback(self):
        if not self._take_deferred_begin() and not self._take_committed():
            super().rollback()

    def close(self):
        self._deferred.begin = self._deferred.committed = False
        return super().close()

    def _is_closed(self, conn):
        if conn.closed:
            return True
        if time.time() - self._returned_at.get(id(conn), 0.0) < self.PING_AFTER_IDLE_SECONDS:
            return self._adapter.txn_status(conn) == self._adapter.txn_unknown
        return super()._is_closed(conn)

    def _close(self, conn, close_conn=False):
        self._returned_at[id(conn)] = time.time()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._returned_at.pop(id(conn), None)
        super()._close_raw(conn)


register_database(PostgresPool, "postgres+pool", "postgresql+pool")


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def open_database(url: str):
    """Make a peewee database for a DATABASE_URL; relative SQLite paths are under the project root."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        url = f"sqlite:///{ROOT / url[len('sqlite:///'):]}"
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        private_database_files(Path(url[len("sqlite:///"):].split("?", 1)[0]))
        # Pooled: closing the last connection to a WAL database checkpoints it (tens of ms of fsync on every
        # request that closes its connection), and a reused connection skips the pragmas and schema parse.
        db = connect("sqlite+pool" + url[len("sqlite"):], pragmas=SQLITE_PRAGMAS, check_same_thread=False,
                     max_connections=None, stale_timeout=600)
    elif url.startswith("sqlite"):
        return connect(url, pragmas=SQLITE_PRAGMAS, check_same_thread=False)
    elif url.startswith(("postgres://", "postgresql://")):
        # Pooled as well: a new PostgreSQL connection (TCP, authentication, a backend process forked) costs a few
        # ms, more than a whole webhook's queries; every request and job would pay it. Idle connections are
        # closed after POSTGRES_STALE_SECONDS, so a quiet process keeps none open on the server.
        scheme, rest = url.split("://", 1)
        return connect(f"{scheme}+pool://{rest}", max_connections=None, stale_timeout=POSTGRES_STALE_SECONDS)
    else:
        return connect(url)
    use_wal(db)
    return db


def private_database_files(path: Path) -> None:
    """Callers' numbers and messages: the database and its journals are readable by this user only (0600), made so
    before SQLite opens them (SQLite would make the file 0644, and the -wal and -shm files take its mode)."""
    make_private(path)
    for suffix in ("-wal", "-shm"):
        journal = Path(f"{path}{suffix}")
        if journal.exists():
            make_private(journal)


def use_wal(db) -> None:
    """Switch the SQLite file to WAL once (readers never wait for the writer); it stays so for every connection."""
    for _ in range(WAL_ATTEMPTS):
        try:
            with db.connection_context():
                if db.execute_sql("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    db.execute_sql("PRAGMA journal_mode = wal")
            return
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.1)
    raise OperationalError(f"database is locked: could not switch {db.database} to WAL")


def bind_database(url: str):
    """Bind the proxy to the database at `url` and return it; a pool bound before is emptied (its idle
    connections closed: tests and the benches bind a new database many times in one process)."""
    close_idle_pool()
    db = open_database(url)
    database.initialize(db)
    return db


def close_idle_pool() -> None:
    previous = database.obj
    if previous is not None and hasattr(previous, "close_idle"):
        previous.close_idle()


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def sqlite_path() -> Path | None:
    return Path(database.obj.database) if is_sqlite() else None


@contextmanager
def write_transaction():
    """A transaction that will write, often after reading (claims). On SQLite it takes the write lock up front
    (BEGIN IMMEDIATE): a deferred one fails at once with "database is locked" when another connection wrote since
    its read, instead of waiting its turn; and this process's threads take turns before asking SQLite.
    PostgreSQL needs nothing of the kind (rows are claimed with SKIP LOCKED or FOR UPDATE)."""
    if not is_sqlite():
        with database.atomic():
            yield
        return
    if database.in_transaction():  # a savepoint of a transaction this thread already has: no lock to take
        with database.atomic():
            yield
        return
    # Bounded like SQLite's own wait, so a queue of threads never waits longer than one busy timeout each.
    if not _sqlite_writer.acquire(timeout=SQLITE_PRAGMAS["busy_timeout"] / 1000):
        raise OperationalError("database is locked: another thread of this process kept the write lock")
    try:
        with database.atomic("IMMEDIATE"):
            yield
    finally:
        _sqlite_writer.release()


def lock_keys(namespace: int, keys: list[str]) -> None:
    """Inside a write_transaction: hold `keys` (of `namespace`, a small number a use of this chooses) until it ends,
    for writers that must not interleave though they may touch no row in common yet, e.g. a callback stored as
    unknown while the row it belongs to is being written. PostgreSQL: transaction advisory locks (a lock per key's
    hash, taken in the hashes' order so that two holders of several never wait for each other in a circle).
    SQLite: nothing to do, its writers already take turns. Sent as a statement of its own: at READ COMMITTED (the
    platform's), what the transaction reads after it sees what the previous holder committed."""
    if is_postgres() and keys:
        database.execute_sql("SELECT count(pg_advisory_xact_lock(%s, h)) FROM (SELECT DISTINCT hashtext(k) AS h "
                             "FROM unnest(%s::text[]) AS k ORDER BY 1) AS hashes", [namespace, list(set(keys))])


def checkpoint_wal() -> None:
    """SQLite: copy what the WAL holds into the database file now, PASSIVE (it neither waits for nor blocks any
    reader or writer). A long run of writes (the retention purge) calls it after each of its transactions, so that
    its pages are written back by itself and not by the commit of whichever webhook finds the WAL past SQLite's
    auto-checkpoint size (a checkpoint and its fsync in that webhook's answer time). Nothing on PostgreSQL."""
    if is_sqlite():
        database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")


def insert_rows(model, fields, rows) -> None:
    """Many rows of plain values (str, int, bool, date, datetime, None: nothing a field must convert) at once, the
    model's defaults filled in as insert_many would.
    SQLite: one prepared INSERT run by the driver's executemany (C code, no SQL built per row: a bulk send's 100,000
    recipients in a fraction of the time). PostgreSQL: one `COPY … FROM STDIN`: the server reads the rows as data,
    without parsing and planning statements of thousands of parameters (insert_many's multi-row INSERTs, or
    execute_values', took three times as long for a bulk batch's outbox rows, and 100,000 recipients took 25 s)."""
    given = {field.name for field in fields}
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    extra = tuple(f.db_value(f.default() if callable(f.default) else f.default) for f in defaults)
    columns = ", ".join(f'"{field.column_name}"' for field in list(fields) + defaults)
    if is_sqlite():
        marks = ", ".join([database.param] * (len(fields) + len(defaults)))
        sql = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})'
        database.cursor().executemany(sql, [(*row, *extra) for row in rows] if extra else rows)
        return
    # COPY's text format: \N is NULL, numbers and datetimes as str() writes them, texts escaped.
    lines = ["\t".join(["\\N" if value is None else _copy_text(value) if value.__class__ is str else str(value)
                        for value in (*row, *extra)]) for row in rows]
    lines.append("")
    database.cursor().copy_expert(f'COPY "{model._meta.table_name}" ({columns}) FROM STDIN',
                                  io.StringIO("\n".join(lines)))


def _copy_text(value: str) -> str:
    """A text in COPY's text format: backslash, tab, newline and carriage return escaped (str.replace finds none
    in most values at C speed; str.translate looks every character up)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def for_update_skip_locked(query):
    """Row claiming for several workers: SKIP LOCKED on PostgreSQL; SQLite has one writer anyway."""
    if is_postgres():
        return query.for_update("FOR UPDATE SKIP LOCKED")
    return query


def execute_prepared(name: str, sql: str, params: list, before: str = ""):
    """PostgreSQL: run `sql` (placeholders %s) as this connection's prepared statement `name`, parsed and planned
    once per connection instead of on every call: for a hot path's statement, planning is a good part of the
    server's time. `before`: statements sent ahead of it in the same round trip. Returns the cursor. A PREPARE
    outlives a failed transaction, so after an error the connection's statements are dropped and made again.
    With the setting database.prepared_statements off (PgBouncer in transaction mode hands each transaction any
    server connection, where the statement would not exist), the statement is simply sent as it is."""
    if not _prepared_statements_on():
        return database.execute_sql(before + sql, params)
    connection = database.connection()
    made = _prepared.get(connection, set())
    reset = "DEALLOCATE ALL;" if made is None else ""
    made = made or set()
    prepare = "" if name in made else f"PREPARE {name} AS {_numbered(sql)};"
    marks = ", ".join(["%s"] * len(params))
    try:
        cursor = database.execute_sql(f"{before}{reset}{prepare}EXECUTE {name} ({marks})", params)
    except Exception:
        _prepared[connection] = None
        raise
    made.add(name)
    _prepared[connection] = made
    return cursor


def _prepared_statements_on() -> bool:
    return not has_app_context() or current_app.config["SETTINGS"].get("database.prepared_statements", True)


def _numbered(sql: str) -> str:
    """psycopg2's placeholders as a prepared statement's parameters: %s, %s → $1, $2."""
    numbers = itertools.count(1)
    return re.sub("%s", lambda _: f"${next(numbers)}", sql)


def next_ids(model, count: int) -> list[int]:
    """Primary keys for `count` rows about to be inserted with their ids given, so that a batch knows its rows' ids
    without reading them back. PostgreSQL: taken from the table's sequence (never handed out twice). SQLite: the
    ids after the largest, as SQLite itself would choose them; only inside a write transaction (the caller holds
    the one write lock until its rows are in)."""
    if not count:
        return []
    table, key = model._meta.table_name, model._meta.primary_key.column_name
    if is_sqlite():
        last = database.execute_sql(f'SELECT COALESCE(MAX("{key}"), 0) FROM "{table}"').fetchone()[0]
        return list(range(last + 1, last + 1 + count))
    cursor = database.execute_sql("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                                  (table, key, count))
    return [row[0] for row in cursor.fetchall()]
