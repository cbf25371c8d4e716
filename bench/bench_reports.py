"""Report benchmarks (R-50..R-53) on a database of 1,000,000 calls (a new SQLite file, or --database-url).

Prints:
  * the call-detail CSV export rate (the real streamed endpoint, 1,000,000 rows) next to Python's
    csv.writer writing the same rows from memory in the same run (goal: at least half that rate);
  * the export's peak memory, for 100,000 and 1,000,000 rows (goal: flat, under 150 MB);
  * the report page time for 90 days at 10,000 calls a day, published (goal: under 1 s) and live (goal: under
    200 ms), with NEW_CALLS calls recorded after the refresh's snapshot (reports.live counts those);
    the published page is the live view's same-run baseline.
Each measurement runs in a fresh process against the database the set-up made, so a peak
memory figure is that of a process serving the export, not of the set-up's leftovers.

Usage: .venv/bin/python bench/bench_reports.py [--quick] [--database-url URL]   (default: a new SQLite file;
the URL's database must exist and be empty: the set-up migrates it)
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

# BENCH_REPORT_DAYS shortens the run while working on the bench; the figures quoted use 100.
DAYS = int(os.environ.get("BENCH_REPORT_DAYS", "100"))
# `./dev bench --quick` (BENCH_QUICK=1): 92 days of 1,000 calls, for a short run; the figures quoted use the full set.
QUICK = os.environ.get("BENCH_QUICK") == "1" or "--quick" in sys.argv
if QUICK:
    DAYS = int(os.environ.get("BENCH_REPORT_DAYS", "92"))
CALLS_PER_DAY = 1_000 if QUICK else 10_000
SMS_PER_DAY = 200 if QUICK else 2_000
NEW_CALLS = 50 if QUICK else 500  # recorded after the refresh (and its snapshot), on the range's last day
FIRST_DAY = dt.date(2026, 1, 1)
TODAY = FIRST_DAY + dt.timedelta(days=DAYS + 2)
DIALLED = ["+815000000000", "+815000000001"]
MENU = [("main", "受付メニュー"), ("sub1", "ご予約"), ("sub2", "お問い合わせ"), ("sub3", "SMS案内")]
OUTCOMES = ["completed"] * 14 + ["abandoned"] * 3 + ["transferred", "voicemail"]
PASSWORD = "bench-password-1"


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """Samples the process's resident memory every 20 ms while the block runs."""

    def __enter__(self):
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def build_app(url: str):
    from web import create_app

    return create_app({
        "database.url": url, "web.secret_key": "bench", "twilio.auth_token": "bench",
        "web.public_base_url": "http://localhost", "reports.retention_days": DAYS + 20,
    })


def bulk_insert(model, rows: list[dict]) -> None:
    """core.db.insert_rows (one prepared INSERT run by executemany on SQLite, multi-row INSERTs on PostgreSQL): peewee's
    per-row work would dominate the set-up time."""
    if rows:
        from core.db import insert_rows

        fields = [model._meta.fields[name] for name in rows[0]]
        insert_rows(model, fields, [tuple(row.values()) for row in rows])


def fill(database, first_day: dt.date = FIRST_DAY, days: int = DAYS) -> None:
    """`days` days (100) x 10,000 calls with their menu paths (2-3 events each), and 2,000 SMS a day."""
    from ivr.models import Flow, Node

    flow = Flow.create(name="代表番号", number=DIALLED[0], entry_key="main")
    for position, (key, name) in enumerate(MENU):
        Node.create(flow=flow, key=key, name=name, kind="menu", position=position)
    rng = random.Random(7)
    for day_index in range(days):
        day = dt.datetime.combine(first_day + dt.timedelta(days=day_index), dt.time(8, 0))
        add_calls(database, flow.id, rng, day_index * CALLS_PER_DAY, [day + dt.timedelta(seconds=n * 5)
                                                                       for n in range(CALLS_PER_DAY)])
    settle(database)


def settle(database) -> None:
    """On PostgreSQL: the call ids were given, so the sequence goes past them; and fresh statistics for the planner."""
    from core.db import is_postgres
    from ivr.models import Call

    if is_postgres():
        database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{Call._meta.table_name}\"', 'id'), "
                             "(SELECT MAX(id) FROM \"ivr_call\"))")
        database.execute_sql("ANALYZE")


def add_calls(database, flow_id: int, rng: random.Random, last_id: int, starts: list[dt.datetime]) -> None:
    """One call (ids after `last_id`) started at each of `starts`, with its events; an SMS for the first SMS_PER_DAY."""
    from ivr.models import Call, CallEvent
    from sms.models import Message

    calls, events, messages = [], [], []
    for n, started in enumerate(starts):
        call_id = last_id + n + 1
        outcome = rng.choice(OUTCOMES)
        digit = rng.choice("123")
        sub_key, sub_name = MENU[int(digit)]
        seconds = rng.randint(10, 300)
        abandoned = outcome == "abandoned"
        sid = f"CA{call_id:032d}"
        calls.append({
            "id": call_id, "call_sid": sid, "flow": flow_id, "from_number": f"+8190{rng.randint(0, 99_999_999):08d}",
            "to_number": DIALLED[n % 2], "started_at": str(started),
            "ended_at": str(started + dt.timedelta(seconds=seconds)), "duration_seconds": seconds,
            "outcome": outcome, "last_node_key": "main" if abandoned else sub_key,
            "last_node_name": "受付メニュー" if abandoned else sub_name,
            "abandoned_node_key": "main" if abandoned else None,
            "abandoned_node_name": "受付メニュー" if abandoned else None,
        })
        steps = [("node", "main", "受付メニュー", "")]
        steps += [("timeout", "main", "受付メニュー", "")] if abandoned else [
            ("digit", "main", "受付メニュー", digit), ("node", sub_key, sub_name, "")]
        for offset, (kind, key, name, digits) in enumerate(steps):
            events.append({"call": call_id, "at": str(started + dt.timedelta(seconds=4 + offset)), "kind": kind,
                           "node_key": key, "node_name": name, "digits": digits, "detail": ""})
        if n < SMS_PER_DAY:
            messages.append({"created_at": str(started + dt.timedelta(seconds=30)), "to_number": "+819011112222",
                             "body": "ご案内です", "state": rng.choice(["delivered"] * 8 + ["failed", "unknown"]),
                             "source": "ivr", "call_sid": sid, "clicks": rng.choice([0, 0, 1]),
                             "updated_at": str(started)})
    with database.atomic():
        bulk_insert(Call, calls)
        bulk_insert(CallEvent, events)
        bulk_insert(Message, messages)


def logged_in_client(app, role: str = "admin"):
    from core.db import database
    from core.models import User
    from web.auth import hash_password

    with database.connection_context():
        User.get_or_create(username=f"bench-{role}",
                           defaults={"role": role, "password_hash": hash_password(PASSWORD)})
    client = app.test_client()
    token_page = client.get("/login").get_data(as_text=True)
    token = token_page.split('name="csrf-token" content="')[1].split('"')[0]
    response = client.post("/login", data={"username": f"bench-{role}", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "bench login failed"
    return client


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_export(app, start: dt.date, end: dt.date) -> dict:
    """Stream /reports/calls.csv for start..end as a browser would read it."""
    client = logged_in_client(app)
    url = f"/reports/calls.csv?from={start}&to={end}&mode=live"
    size = lines = 0
    before = rss_mb()
    with PeakRss() as memory:
        began = time.perf_counter()
        response = client.get(url, buffered=False)
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        response.close()
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "bytes": size, "rows": lines - 1, "rss_before": before, "rss_peak": memory.peak,
            "process_peak": peak_rss_mb()}


def measure_baseline(app, start: dt.date, end: dt.date) -> dict:
    """csv.writer writing the very same rows, read into memory beforehand (making them is not timed)."""
    from core.db import database
    from reports.call_rows import iter_csv_rows
    from reports.exports import CALL_HEADER
    from reports.queries import CallFilter

    with database.connection_context():
        rows = list(iter_csv_rows(CallFilter(start, end)))
    with open(os.devnull, "w", encoding="utf-8-sig", newline="") as sink:
        began = time.perf_counter()
        writer = csv.writer(sink, lineterminator="\r\n")
        writer.writerow(CALL_HEADER)
        writer.writerows(rows)
        seconds = time.perf_counter() - began
    return {"seconds": seconds, "rows": len(rows)}


def timed_get(client, url: str, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        best = min(best, time.perf_counter() - began)
    return best


def measure_pages(app, start: dt.date, end: dt.date) -> dict:
    client = logged_in_client(app)
    live = f"/reports/?from={start}&to={end}&mode=live"
    return {
        "published": timed_get(client, f"/reports/?from={start}&to={end}"),
        # The live view reads the published days and the snapshot of the later ones, and counts what came since
        # (reports.live); nothing is kept per process, so the first view costs what later ones do.
        "live": timed_get(client, live, repeat=1),
        "live_again": timed_get(client, live),
        "calls_page": timed_get(client, f"/reports/calls?from={start}&to={end}&mode=live"),
    }


MEASURES = {"export": measure_export, "baseline": measure_baseline, "pages": measure_pages}


def child(url: str, what: str, start: str, end: str) -> int:
    """One measurement in this fresh process; prints its figures as JSON."""
    from core import clock

    clock.use_clock(clock.FakeClock(dt.datetime.combine(TODAY, dt.time(13, 0))))
    app = build_app(url)
    print(json.dumps(MEASURES[what](app, dt.date.fromisoformat(start), dt.date.fromisoformat(end))))
    return 0


def in_fresh_process(url: str, what: str, start: dt.date, end: dt.date) -> dict:
    result = subprocess.run([sys.executable, __file__, "--measure", url, what, str(start), str(end)],
                            check=False, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{what} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def set_up(url: str) -> None:
    """The calls, the 13:00 refresh (which publishes and takes the live view's snapshot), then NEW_CALLS calls."""
    from core import clock
    from core.db import database
    from ivr.models import Flow
    from reports.jobs import refresh_reports

    clock.use_clock(clock.FakeClock(dt.datetime.combine(TODAY, dt.time(13, 0))))
    app = build_app(url)
    with app.app_context(), database.connection_context():
        began = time.perf_counter()
        fill(database)
        print(f"data: {DAYS * CALLS_PER_DAY:,} calls, {DAYS * SMS_PER_DAY:,} SMS over {DAYS} days "
              f"({time.perf_counter() - began:.1f} s to insert)")
        began = time.perf_counter()
        print(f"refresh (publish {refresh_reports()}, with each call's path and CSV line): {time.perf_counter() - began:.1f} s")
        evening = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=DAYS - 1), dt.time(22, 0))
        add_calls(database, Flow.get().id, random.Random(8), DAYS * CALLS_PER_DAY,
                  [evening + dt.timedelta(seconds=n * 5) for n in range(NEW_CALLS)])
        settle(database)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="an empty database (default: a new SQLite file)")
    parser.add_argument("--quick", action="store_true", help=f"{DAYS} days of 1,000 calls")
    args = parser.parse_args()
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"  # the measuring processes too
    last = FIRST_DAY + dt.timedelta(days=DAYS - 1)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        print(f"database: {url.split('://')[0]}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        set_up(url)
        small = in_fresh_process(url, "export", FIRST_DAY, FIRST_DAY + dt.timedelta(days=DAYS // 10 - 1))
        full = in_fresh_process(url, "export", FIRST_DAY, last)
        base = in_fresh_process(url, "baseline", FIRST_DAY, last)
        start90 = max(FIRST_DAY, last - dt.timedelta(days=89))
        pages = in_fresh_process(url, "pages", start90, last)

    total = DAYS * CALLS_PER_DAY + NEW_CALLS
    assert full["rows"] == base["rows"] == total, (full["rows"], base["rows"])
    export_rate = full["rows"] / full["seconds"]
    base_rate = base["rows"] / base["seconds"]
    print(f"CSV export (streamed /reports/calls.csv: stored CSV lines read + UTF-8): {full['rows']:,} rows in "
          f"{full['seconds']:.1f} s = {export_rate:,.0f} rows/s, {full['bytes'] / 1e6:.0f} MB")
    print(f"csv.writer baseline (same rows from memory, same run):              {base['rows']:,} rows in "
          f"{base['seconds']:.1f} s = {base_rate:,.0f} rows/s")
    print(f"export / baseline rate: {export_rate / base_rate:.2f} (goal >= 0.50)")
    for label, run in ((f"{small['rows']:,}-row", small), (f"{full['rows']:,}-row", full)):
        print(f"peak memory of the process serving the {label} export: {run['process_peak']:.0f} MB "
              f"(resident {run['rss_before']:.0f} MB before it, {run['rss_peak']:.0f} MB at most during it; "
              f"goal flat, < 150 MB)")
    print(f"report page, {(last - start90).days + 1} days x {CALLS_PER_DAY:,} calls/day, published: {pages['published'] * 1000:.0f} ms "
          f"(goal < 1000 ms; the live view's same-run baseline)")
    print(f"report page, same range, live view, first in the process (published days + snapshot + "
          f"{NEW_CALLS} calls since counted): {pages['live'] * 1000:.0f} ms (goal < 200 ms)")
    print(f"report page, same range, live view again: {pages['live_again'] * 1000:.0f} ms (goal < 200 ms)")
    print(f"live view / published: {pages['live'] / pages['published']:.1f} (first), "
          f"{pages['live_again'] / pages['published']:.1f} (again)")
    print(f"call detail page, same range, first page: {pages['calls_page'] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--measure":
        sys.exit(child(*sys.argv[2:]))
    sys.exit(main())
