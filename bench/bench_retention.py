"""Retention at scale (R-52): the daily purge deleting 1,000,000 expired rows while callers call.

Set-up: N/2 expired calls (200 days old) with one event each (N rows in all), bulk-inserted. The app is served
as `python run.py` serves it (waitress, in this process), and CALLERS simulated callers post signed Gather
webhooks (loadkit.Caller: every request writes). Measured, same run:
  * baseline: the callers alone for BASELINE_SECONDS, webhook p50 / p99;
  * the purge (core.retention.purge_expired, every target, in a thread of this same process as in a single
    `run.py`) running to the end while the callers go on: webhook p50 / p99 during it (goal p99 < 50 ms),
    the purge's time and rows/s, and that every expired row is gone and every caller's call kept.

Usage: ./dev python bench/bench_retention.py [--rows 1000000] [--callers 8] [--database-url URL] [--quick]
"""
from __future__ import annotations

import argparse
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
CHUNK = 20_000


def expired_rows(first_id: int, calls: int, started: dt.datetime):
    """(calls, events) rows as tuples, in CHUNK-sized pieces."""
    for low in range(first_id, first_id + calls, CHUNK):
        high = min(first_id + calls, low + CHUNK)
        call_rows, event_rows = [], []
        for call_id in range(low, high):
            at = started + dt.timedelta(seconds=call_id % 80_000)
            call_rows.append((call_id, f"CX{call_id:032d}", f"+8190{call_id % 100_000_000:08d}", loadkit.FLOW_NUMBER,
                              at, at + dt.timedelta(seconds=60), 60, "completed", 1, "{}", "", "main",
                              "メインメニュー", "completed", False))
            event_rows.append((call_id, at, "node", "main", "メインメニュー", "", ""))
        yield call_rows, event_rows


CALL_COLUMNS = ("id", "call_sid", "from_number", "to_number", "started_at", "ended_at", "duration_seconds",
                "outcome", "step", "state", "last_response", "last_node_key", "last_node_name", "status", "simulated")
EVENT_COLUMNS = ("call_id", "at", "kind", "node_key", "node_name", "digits", "detail")


def insert(database, table: str, columns: tuple, rows: list[tuple]) -> None:
    """Straight through the driver (peewee's per-row work would dominate the set-up)."""
    names = ", ".join(f'"{c}"' for c in columns)
    from core.db import is_postgres

    if is_postgres():
        from psycopg2.extras import execute_values

        with database.cursor() as cursor:
            execute_values(cursor, f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=5000)
    else:
        marks = ", ".join("?" for _ in columns)
        database.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})',
                                      [tuple(str(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows])


def fill(rows: int) -> int:
    """rows/2 expired calls and one event each; returns how many calls."""
    from core import clock
    from core.db import database, is_postgres
    from ivr.models import Call, CallEvent

    calls = rows // 2
    first = FIRST_ID
    started = clock.now() - dt.timedelta(days=200)
    for call_rows, event_rows in expired_rows(first, calls, started):
        with database.atomic():
            insert(database, Call._meta.table_name, CALL_COLUMNS, call_rows)
            insert(database, CallEvent._meta.table_name, EVENT_COLUMNS, event_rows)
    if is_postgres():  # ids given: the sequence goes past them; and fresh statistics for the planner
        database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{Call._meta.table_name}\"', 'id'), "
                             f"{first + calls})")
        database.execute_sql("ANALYZE")
    return calls


def measure(port: int, callers: int, purge) -> tuple[list[float], list[float], float, dict, list[str]]:
    results = loadkit.Latencies()
    stop = threading.Event()
    threads = loadkit.start_callers(port, callers, results, stop)
    time.sleep(1)  # the first calls under way
    baseline_start = time.perf_counter()
    time.sleep(BASELINE_SECONDS)
    baseline_end = time.perf_counter()
    counts: dict = {}
    started = time.perf_counter()
    counts.update(purge())
    ended = time.perf_counter()
    stop.set()
    for thread in threads:
        thread.join()
    return (results.between(baseline_start, baseline_end), results.between(started, ended), ended - started,
            counts, results.errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--callers", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows

    from waitress.server import create_server

    from core.db import database
    from core.retention import purge_expired
    from ivr.models import Call, CallEvent
    from web import create_app

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    workdir = tempfile.mkdtemp(prefix="bench-retention-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    app = create_app(loadkit.bench_settings(url, workdir, **{"scheduler.enabled": False}))
    with app.app_context(), database.connection_context():
        loadkit.seed_flow()
        began = time.perf_counter()
        calls = fill(rows)
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"retention purge of {rows:,} expired rows ({calls:,} calls + {calls:,} events, "
              f"{url.split('://')[0]}); set-up {time.perf_counter() - began:.0f} s; {args.callers} callers")
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    threading.Thread(target=server.run, daemon=True).start()

    def purge():
        with app.app_context(), database.connection_context():
            return purge_expired()

    baseline, during, seconds, counts, errors = measure(server.effective_port, args.callers, purge)
    with app.app_context(), database.connection_context():
        left = Call.select().where(Call.call_sid.startswith("CX")).count()
        kept = Call.select().where(~Call.call_sid.startswith("CX")).count()
        events_left = CallEvent.select().where(CallEvent.call_id.between(FIRST_ID, FIRST_ID + rows // 2 - 1)).count()
    deleted = counts.get("ivr.calls", 0)
    print(f"  {'baseline: webhooks, callers alone':<44} {loadkit.summary(baseline)}")
    print(f"  {'webhooks while the purge runs':<44} {loadkit.summary(during)}   (goal p99 < 50 ms)")
    print(f"  {'purge (every target)':<44} {seconds:8.1f} s   {2 * deleted / seconds:,.0f} rows/s   "
          f"({deleted:,} calls and their events)")
    print(f"  expired left {left} calls / {events_left} events; callers' calls kept {kept:,}; errors {len(errors)}"
          + (f" (first: {errors[0]})" if errors else ""))
    ok = left == 0 and events_left == 0 and not errors and loadkit.percentile(during, 0.99) < 50
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
