"""Soak: one `python run.py` for a bounded time (default 10 minutes) under 50 callers, with a bulk send, the 13:00
report refresh and the retention purge fired during it.

Set-up (before the clock starts): the flow, 30 days of past calls for the refresh to publish, and, once the
process has run its start-up jobs, EXPIRED expired calls (with an event each) for the purge. The refresh and the
purge are scheduled (reports.refresh_time / reports.purge_time, as the real daily jobs) at about 25 % and 40 % of
the run (on whole minutes); the published report is emptied just before, so the refresh publishes all 30 days again. A bulk send of
RECIPIENTS is confirmed at 20 %.
Prints: webhook requests, errors (goal 0), p50 / p99 overall and the worst minute's p99, whether the jobs ran, the
bulk send's messages seen by the local Twilio server, and the process's resident memory over the run (goal flat:
the last fifth's median against the first fifth's after warm-up).

Usage: ./dev python bench/bench_soak.py [--minutes 10] [--callers 50] [--database-url URL] [--quick (4 minutes)]
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench import bench_load, bench_retention, loadkit

STARTUP_SECONDS = 90  # the process starts and runs its start-up jobs within this; the soak's clock starts after
HISTORY_DAYS, HISTORY_CALLS = 30, 2000
EXPIRED_FIRST_ID = 20_000_000


def next_minute(moment: dt.datetime) -> dt.datetime:
    return (moment + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)


def schedule(duration: float) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """(soak start, refresh, purge) in Tokyo wall time: the jobs on whole minutes at ~25 % and ~40 % of the run."""
    from core import clock

    start = dt.datetime.now(clock.TOKYO).replace(tzinfo=None) + dt.timedelta(seconds=STARTUP_SECONDS)
    refresh = next_minute(start + dt.timedelta(seconds=0.25 * duration))
    purge = max(next_minute(start + dt.timedelta(seconds=0.4 * duration)), refresh + dt.timedelta(minutes=1))
    return start, refresh, purge


def fill_history(app) -> None:
    """HISTORY_DAYS past days of HISTORY_CALLS finished calls each (for the refresh to publish)."""
    from core import clock
    from core.db import database
    from ivr.models import Call

    today = clock.today()
    next_id = 30_000_000
    with app.app_context(), database.connection_context():
        for back in range(HISTORY_DAYS, 0, -1):
            started = dt.datetime.combine(today - dt.timedelta(days=back), dt.time(9))
            bench_retention.insert_calls(next_id, HISTORY_CALLS, started, spread_seconds=10 * 3600)
            next_id += HISTORY_CALLS
        move_sequence(database, Call, next_id + 1)


def move_sequence(database, model, value: int) -> None:
    from core.db import is_postgres

    if is_postgres():
        database.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{model._meta.table_name}\"', 'id'), {value})")


def fill_expired(app, count: int) -> None:
    from core import clock
    from core.db import database

    started = (clock.now() - dt.timedelta(days=200)).replace(microsecond=0)
    with app.app_context(), database.connection_context():
        bench_retention.insert_calls(EXPIRED_FIRST_ID, count, started)


def empty_published_report(app) -> None:
    """So the scheduled refresh publishes every day again (real work, as after a long holiday)."""
    from core.db import database
    from reports.models import AGGREGATE_MODELS, ReportRefresh

    with app.app_context(), database.connection_context(), database.atomic():
        ReportRefresh.delete().execute()
        for model in AGGREGATE_MODELS:
            model.delete().execute()


def expired_left(app) -> int:
    from core.db import database
    from ivr.models import Call

    with app.app_context(), database.connection_context():
        return Call.select().where(Call.id.between(EXPIRED_FIRST_ID, EXPIRED_FIRST_ID + 9_999_999)).count()


def job_runs(app) -> dict[str, str]:
    from core.db import database
    from core.models import JobRun

    with app.app_context(), database.connection_context():
        return {row.job_id: f"{row.last_run_at:%H:%M:%S} {row.last_result[:60]}" for row in JobRun.select()}


def wait_until(moment: dt.datetime) -> None:
    from core import clock

    while (left := (moment - dt.datetime.now(clock.TOKYO).replace(tzinfo=None)).total_seconds()) > 0:
        time.sleep(min(left, 1.0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--callers", type=int, default=50)
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--expired", type=int, default=200_000, help="expired calls for the purge")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--quick", action="store_true", help="4 minutes, 1,000 recipients, 20,000 expired calls")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.recipients, args.expired = 4, 1000, 20_000
    duration = args.minutes * 60

    import logging

    from core import clock
    from core.db import database
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    workdir = tempfile.mkdtemp(prefix="bench-soak-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    twilio = FakeTwilio(loadkit.ACCOUNT_SID, loadkit.AUTH_TOKEN).start()
    app = create_app(loadkit.bench_settings(url, workdir, **{
        "scheduler.enabled": False, "telephony.provider": "twilio", "twilio.from_number": bench_load.FROM,
        "twilio.api_base_url": twilio.url, "bulk.max_recipients": max(args.recipients, 1)}))
    with app.app_context(), database.connection_context():
        import sms

        sms.seed_defaults(app)
        loadkit.seed_flow()
    fill_history(app)
    database.close()

    start, refresh_at, purge_at = schedule(duration)
    end = start + dt.timedelta(seconds=duration)
    port = bench_load.free_port()
    env = bench_load.process_env(url, workdir, twilio.url, port, {
        "IVR_REPORTS__REFRESH_TIME": f"{refresh_at:%H:%M}", "IVR_REPORTS__PURGE_TIME": f"{purge_at:%H:%M}",
        "IVR_SCHEDULER__LEASE_SECONDS": "15"})
    print(f"soak: {args.minutes:g} minutes, {args.callers} callers, one run.py, {url.split('://')[0]}, load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; refresh at {refresh_at:%H:%M}, purge at "
          f"{purge_at:%H:%M} (Tokyo), bulk send of {args.recipients:,}, {args.expired:,} expired calls; logs in {workdir}")
    procs = bench_load.Processes([[]], env, workdir, "soak")
    pid = procs.pids()["serve"]
    results, stop = loadkit.Latencies(), threading.Event()
    memory: list[tuple[float, float]] = []
    try:
        bench_load.wait_for_web(port, procs, timeout=STARTUP_SECONDS)
        bench_load.wait_for_scheduler(app)
        time.sleep(5)  # the start-up jobs (a purge with nothing to do, the refresh) are done
        fill_expired(app, args.expired)
        wait_until(start)
        threads = loadkit.start_callers(port, args.callers, results, stop, think_seconds=(0.5, 1.5))
        began = time.perf_counter()
        bulk_at = start + dt.timedelta(seconds=0.2 * duration)
        report_emptied = bulk_sent = False
        while (now := dt.datetime.now(clock.TOKYO).replace(tzinfo=None)) < end:
            memory.append((time.perf_counter() - began, loadkit.rss_mb(pid)))
            if not bulk_sent and now >= bulk_at:
                bench_load.confirm_bulk_send(app, args.recipients, 5_000_000)
                bulk_sent = True
            if not report_emptied and now >= refresh_at - dt.timedelta(seconds=20):
                empty_published_report(app)
                report_emptied = True
            time.sleep(5)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
    finally:
        procs.stop()
    runs = job_runs(app)
    runs["expired calls left"] = f"{expired_left(app):,} of {args.expired:,}"
    sent = bench_load.sent_count(twilio, 5_000_000, args.recipients)
    twilio.stop()
    return report(results, began, elapsed, memory, runs, sent, args)


def report(results, began: float, elapsed: float, memory, runs, sent: int, args) -> int:
    values = [ms for _, ms in results.samples]
    minutes = {}
    for at, ms in results.samples:
        minutes.setdefault(int((at - began) // 60), []).append(ms)
    worst = max(((loadkit.percentile(v, 0.99), m) for m, v in minutes.items()), default=(math.nan, 0))
    print(f"  {'webhooks':<44} {loadkit.summary(values)}")
    print(f"  {'worst minute p99':<44} {worst[0]:6.1f} ms (minute {worst[1] + 1} of {math.ceil(elapsed / 60)})")
    errors = results.errors
    print(f"  {'webhook errors':<44} {len(errors)}" + (f"   first: {errors[0]}" if errors else ""))
    for job in ("reports-refresh", "retention-purge", "bulk-sends", "sms-dispatch"):
        print(f"  {'job ' + job:<44} last run {runs.get(job, 'never')}")
    print(f"  {'expired calls left after the purge':<44} {runs['expired calls left']}")
    print(f"  {'bulk send at the local Twilio server':<44} {sent:,} of {args.recipients:,}")
    warm = [rss for at, rss in memory if at >= 30] or [rss for _, rss in memory]
    fifth = max(1, len(warm) // 5)
    first, last = statistics.median(warm[:fifth]), statistics.median(warm[-fifth:])
    print(f"  {'resident memory of run.py (MB)':<44} first fifth {first:.0f}, last fifth {last:.0f}, "
          f"most {max(warm):.0f} ({len(memory)} samples)")
    # Each fifth's median, to tell a step (a job's working set, kept by the allocator) from a slope (a leak).
    medians = [statistics.median(warm[i:i + fifth]) for i in range(0, fifth * 5, fifth)]
    print(f"  {'resident memory by fifth of the run (MB)':<44} {', '.join(f'{m:.0f}' for m in medians)}")
    return 0 if not errors and sent == args.recipients else 1


if __name__ == "__main__":
    sys.exit(main())
