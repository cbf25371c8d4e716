"""Retention at scale (R-52): the daily purge deleting 1,000,000 expired rows while callers call.

Set-up: N/2 expired calls (200 days old) with one event each (N rows in all), made by the database itself from
a series of ids (generate_series on PostgreSQL, a recursive CTE on SQLite: 1,000,000 rows in seconds). The app is served
as `python run.py` serves it (waitress, in this process), and CALLERS simulated callers post signed Gather
webhooks (loadkit.Caller: every request writes). Measured, same run:
  * baseline: the callers alone for BASELINE_SECONDS, webhook p50 / p99;
  * the purge (core.retention.purge_expired, every target, in a thread of this same process as in a single
    `run.py`) running to the end while the callers go on: webhook p50 / p99 during it (goal p99 < 50 ms),
    the purge's time and rows/s, and that every expired row is gone and every caller's call kept.

Usage: ./dev python bench/bench_retention.py [--rows 1000000] [--callers 8] [--batch N] [--database-url URL] [--quick]
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench import loadkit

BASELINE_SECONDS = 10
FIRST_ID = 10_000_000  # the expired calls' ids; the callers' calls come after them
CHUNK = 100_000  # calls a statement (and a transaction) while filling

# Set-based: the database makes the rows itself from a series of ids (no row crosses the driver), the calls
# spread over a day 200 days ago. {calls} / {events}: table names; parameters: first id, last id, start time.
POSTGRES_FILL = (
    """INSERT INTO "{calls}" (id, call_sid, from_number, to_number, started_at, ended_at, duration_seconds, outcome,
           step, state, last_response, last_node_key, last_node_name, status, simulated)
       SELECT n, 'CX' || n, '+8190' || lpad(mod(n, 100000000)::text, 8, '0'), %s,
              %s + mod(n, {spread}) * interval '1 second', %s + (mod(n, {spread}) + 60) * interval '1 second', 60,
              'completed', 1, '{{}}', '', 'main', 'メインメニュー', 'completed', false
       FROM generate_series(%s, %s) AS n""",
    """INSERT INTO "{events}" (call_id, at, kind, node_key, node_name, digits, detail)
       SELECT n, %s + mod(n, {spread}) * interval '1 second', 'node', 'main', 'メインメニュー', '', ''
       FROM generate_series(%s, %s) AS n""",
)
SQLITE_FILL = (
    """WITH RECURSIVE series(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM series WHERE n < ?)
       INSERT INTO "{calls}" (id, call_sid, from_number, to_number, started_at, ended_at, duration_seconds, outcome,
           step, state, last_response, last_node_key, last_node_name, status, simulated)
       SELECT n, 'CX' || n, '+8190' || substr('0000000' || (n % 100000000), -8), ?,
              datetime(?, '+' || (n % {spread}) || ' seconds'), datetime(?, '+' || (n % {spread} + 60) || ' seconds'),
              60, 'completed', 1, '{{}}', '', 'main', 'メインメニュー', 'completed', 0
       FROM series""",
    """WITH RECURSIVE series(n) AS (SELECT ? UNION ALL SELECT n + 1 FROM series WHERE n < ?)
       INSERT INTO "{events}" (call_id, at, kind, node_key, node_name, digits, detail)
       SELECT n, datetime(?, '+' || (n % {spread}) || ' seconds'), 'node', 'main', 'メインメニュー', '', ''
       FROM series""",
)


def fill(rows: int) -> int:
    """rows/2 expired calls and one event each, CHUNK calls a transaction; returns how many calls."""
    from core import clock
    from core.db import database, is_postgres
    from ivr.models import Call

    calls = rows // 2
    insert_calls(FIRST_ID, calls, (clock.now() - dt.timedelta(days=200)).replace(microsecond=0))
    # Settled before the baseline, as a database whose rows are months old is: fresh statistics for the planner,
    # the rows vacuumed (PostgreSQL) and the fill's pages written back, so the baseline does not pay for the fill.
    if is_postgres():
        database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{Call._meta.table_name}\"', 'id'), "
                             f"{FIRST_ID + calls})")  # ids given: the sequence goes past them
        database.execute_sql("VACUUM ANALYZE")
        database.execute_sql("CHECKPOINT")
    else:
        database.execute_sql("ANALYZE")
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return calls


def insert_calls(first_id: int, count: int, started: dt.datetime, spread_seconds: int = 80_000) -> None:
    """`count` finished calls with ids from `first_id` and one event each, started over `spread_seconds` from
    `started`, made by the database itself, CHUNK calls a transaction (ids given: PostgreSQL's sequence is left)."""
    from core.db import database, is_postgres
    from ivr.models import Call, CallEvent

    tables = {"calls": Call._meta.table_name, "events": CallEvent._meta.table_name, "spread": int(spread_seconds)}
    for low in range(first_id, first_id + count, CHUNK):
        high = min(first_id + count, low + CHUNK) - 1
        with database.atomic():
            if is_postgres():
                calls_sql, events_sql = (sql.format(**tables) for sql in POSTGRES_FILL)
                database.execute_sql(calls_sql, (loadkit.FLOW_NUMBER, started, started, low, high))
                database.execute_sql(events_sql, (started, low, high))
            else:
                calls_sql, events_sql = (sql.format(**tables) for sql in SQLITE_FILL)
                at = str(started)
                database.execute_sql(calls_sql, (low, high, loadkit.FLOW_NUMBER, at, at))
                database.execute_sql(events_sql, (low, high, at))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch", type=int, default=None, help="reports.purge_batch (default: the setting's)")
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows

    from waitress.server import create_server

    from core import retention
    from core.db import database
    from core.retention import purge_expired
    from ivr.models import Call, CallEvent
    from web import create_app

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    workdir = tempfile.mkdtemp(prefix="bench-retention-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    batch_setting = {"reports.purge_batch": args.batch} if args.batch else {}
    app = create_app(loadkit.bench_settings(url, workdir, **{"scheduler.enabled": False, **batch_setting}))
    with app.app_context(), database.connection_context():
        loadkit.seed_flow()
        began = time.perf_counter()
        calls = fill(rows)
        batch = retention.batch_rows(retention.current_expiry())
    print(f"retention purge of {rows:,} expired rows ({calls:,} calls + {calls:,} events, {url.split('://')[0]}, "
          f"batches of {batch:,}); set-up {time.perf_counter() - began:.1f} s; {args.callers} callers; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()

    holds: list[float] = []  # ms each batch's transaction (and checkpoint) took: what a writer may wait for
    batch_transaction = retention.batch_transaction

    @contextlib.contextmanager
    def timed_batch():
        started = time.perf_counter()
        with batch_transaction():
            yield
        holds.append((time.perf_counter() - started) * 1000)

    def purge():
        retention.batch_transaction = timed_batch
        try:
            with app.app_context(), database.connection_context():
                return purge_expired()
        finally:
            retention.batch_transaction = batch_transaction

    phases = loadkit.callers_around(server.effective_port, args.callers, purge, baseline_seconds=BASELINE_SECONDS)
    baseline, during, seconds, counts, errors = (phases.baseline, phases.during, phases.seconds, phases.outcome,
                                                 phases.errors)
    with app.app_context(), database.connection_context():
        left = Call.select().where(Call.call_sid.startswith("CX")).count()
        kept = Call.select().where(~Call.call_sid.startswith("CX")).count()
        events_left = CallEvent.select().where(CallEvent.call_id.between(FIRST_ID, FIRST_ID + rows // 2 - 1)).count()
    deleted = counts.get("ivr.calls", 0)
    print(f"  {'baseline: webhooks, callers alone':<44} {loadkit.summary(baseline)}")
    print(f"  {'webhooks while the purge runs':<44} {loadkit.summary(during)}   (goal p99 < 50 ms)")
    print(f"  {'purge (every target)':<44} {seconds:8.1f} s   {2 * deleted / seconds:,.0f} rows/s   "
          f"({deleted:,} calls and their events)")
    print(f"  {'purge batches (transaction + checkpoint)':<44} {loadkit.summary(holds).replace('requests', 'batches')}")
    print(f"  load average after the purge {os.getloadavg()[0]:.1f}")
    print(f"  expired left {left} calls / {events_left} events; callers' calls kept {kept:,}; errors {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    ok = left == 0 and events_left == 0 and not errors and loadkit.percentile(during, 0.99) < 50
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
