"""Bulk-send benchmark (R-40..R-47): create a send of 100,000 recipients, then dispatch it against the local
Twilio-compatible server.

Prints, for a Shift_JIS CSV of N rows (5% duplicates written differently, 5% not mobile):
  * creation: reading the CSV, checking and de-duplicating the numbers, storing the draft, confirming it —
    time and peak memory (goal: under 10 s and under 300 MB), next to a baseline in the same run: Python's csv
    module alone over the same file and one plain write of the same number of rows (core.db.insert_rows:
    executemany on SQLite, COPY on PostgreSQL; multi-row INSERTs on PostgreSQL before issue 17's bulk work);
  * dispatch: moving every recipient into the SMS outbox (the bulk runner), then sending the outbox through the
    real twilio client to the local server (the SMS dispatcher, no rate limit) — time and messages per second.

Goals (issue 17): checking and de-duplicating the 100,000 numbers under 1 s; recipients into the outbox at
5,000 a second or more, on SQLite and on PostgreSQL.

Usage: ./dev python bench/bench_bulk.py [--recipients 100000] [--send N|all] [--database-url URL] [--sqlite-only]
Without --database-url it runs on SQLite and then, when PostgreSQL answers on 127.0.0.1:5432 (user postgres),
on a throwaway PostgreSQL database, and prints both columns side by side at the end.
`--send` is how many outbox rows are sent to the local server (default 5,000; 0 skips sending; the time for all
of them is then extrapolated from the measured rate and printed as such; `--send all` sends every one).
Creation runs first, so the process's peak RSS printed after it is the peak of creation (plus the app itself).
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

ACCOUNT_SID, AUTH_TOKEN = "AC" + "7" * 32, "bench-auth-token"
INVALID = ["03-1234-{:04d}", "050-1234-{:04d}", "090-0123-{:04d}", "0120-12-{:04d}", "不明{:04d}"]


def make_csv(rows: int, seed: int = 7) -> bytes:
    """名前,電話番号 rows: 90% distinct mobiles, 5% repeats of earlier ones (hyphenated or not), 5% invalid."""
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("名前,電話番号,メモ\r\n")
    distinct: list[str] = []
    for i in range(rows):
        kind = rng.random()
        if kind < 0.05 and distinct:
            earlier = rng.choice(distinct)
            number = earlier.replace("-", "") if "-" in earlier else f"{earlier[:3]}-{earlier[3:7]}-{earlier[7:]}"
        elif kind < 0.10:
            number = rng.choice(INVALID).format(i % 10000)
        else:
            prefix = rng.choice(("070", "080", "090"))
            body = f"{1000_0000 + i:08d}"
            number = f"{prefix}-{body[:4]}-{body[4:]}" if i % 2 else prefix + body
            distinct.append(number)
        out.write(f"顧客{i},{number},備考\r\n")
    return out.getvalue().encode("cp932")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


FIGURES: dict[str, dict[str, str]] = {}  # figure → database → text, for the summary table


def figure(name: str, database: str, text: str) -> None:
    FIGURES.setdefault(name, {})[database] = text


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label:<44} {elapsed:8.2f} s", flush=True)
    return result, elapsed


def baseline(data: bytes, rows: int, db: str) -> None:
    from core.db import database, insert_rows
    from sms.bulk.models import BulkRecipient, BulkSend

    print("baseline (same run)")
    _, parse = timed("csv module alone (decode + parse)",
                     lambda: sum(1 for _ in csv.reader(io.StringIO(data.decode("cp932")))))
    figure("baseline: csv module alone", db, f"{parse:.2f} s")
    send = BulkSend.create(status="cancelled", source="paste", title="bench baseline")
    fields = [BulkRecipient.bulk_send, BulkRecipient.position, BulkRecipient.to_number]
    payload = [(send.id, i, f"+8190{i:08d}") for i in range(rows)]
    with database.atomic():
        _, plain = timed(f"plain INSERT of {rows:,} rows", insert_rows, BulkRecipient, fields, payload)
    figure("baseline: plain INSERT of the recipient rows", db, f"{rows / plain:,.0f} /s")
    with database.atomic():
        BulkRecipient.delete().where(BulkRecipient.bulk_send == send.id).execute()
        send.delete_instance()


def create(data: bytes, db: str) -> tuple[int, float]:
    """The pages' path: read the CSV, check the numbers, store the draft, confirm. Returns (send id, seconds)."""
    from sms.bulk import sends
    from sms.bulk.recipients import read_csv

    print("creation")
    started = time.perf_counter()
    table, _ = timed("read CSV (cp932, header, phone column)", read_csv, data)
    found, checking = timed("check numbers and de-duplicate", sends.build_recipients, table.candidates)
    figure(f"check + de-duplicate {len(table.candidates):,} numbers (goal < 1 s)", db, f"{checking:.2f} s")
    draft, _ = timed("store the draft (recipients + skipped rows)", sends.create_draft, found, source="csv",
                     actor="bench", broken=table.broken, empty=table.skipped)
    form, errors = sends.read_message_form(["一括配信のベンチマークです。停止は {optout_url}"], [None], schedule=False)
    assert not errors, errors
    send, _ = timed("confirm (tickets, schedule)", sends.confirm, draft.id, form, "bench")
    total = time.perf_counter() - started
    print(f"  {'creation total':<44} {total:8.2f} s   (goal < 10 s)")
    figure("creation total (goal < 10 s)", db, f"{total:.2f} s")
    print(f"  recipients {send.recipient_count:,}, duplicates {send.duplicate_count:,}, "
          f"not mobile {send.invalid_count:,}, broken rows {send.broken_count:,}")
    return send.id, total


def creation_memory(data: bytes) -> float:
    """Peak Python allocations of the same creation, measured apart (tracemalloc slows everything down)."""
    from sms.bulk import sends
    from sms.bulk.recipients import read_csv

    tracemalloc.start()
    table = read_csv(data)
    found = sends.build_recipients(table.candidates)
    draft = sends.create_draft(found, source="csv", actor="bench", broken=table.broken, empty=table.skipped)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    sends.cancel(draft.id, "bench")
    return peak / 1024 / 1024


def dispatch(send_id: int, send_limit: int | None, twilio, db: str) -> None:
    """Everything into the outbox (the bulk runner), then `send_limit` outbox rows (None: all) to the local server."""
    from sms.bulk import runner
    from sms.bulk.history import progress_of
    from sms.models import Message
    from sms.outbox import Pacer, run_dispatch

    print("dispatch")
    moved = 0
    started = time.perf_counter()
    while True:
        result = runner.poll(budget_seconds=3600)
        moved += result.queued
        if not result.queued and not runner.running_send_ids():
            break
    elapsed = time.perf_counter() - started
    print(f"  {'recipients into the SMS outbox':<44} {elapsed:8.2f} s   ({moved / elapsed:,.0f} /s; goal ≥ 5,000 /s)")
    figure("recipients into the outbox (goal ≥ 5,000 /s)", db, f"{moved / elapsed:,.0f} /s")

    queued = Message.select().where((Message.bulk_send_id == send_id) & Message.due_at.is_null(False)).count()
    target = queued if send_limit is None else min(queued, send_limit)
    if not target:
        return
    started = time.perf_counter()
    sent = 0
    while sent < target:
        report = run_dispatch(pacer=Pacer(0), limit=min(1000, target - sent))
        if not report.handled:
            break
        sent += report.handled
    elapsed = time.perf_counter() - started
    print(f"  {'outbox → local Twilio server (twilio client)':<44} {elapsed:8.2f} s   "
          f"({sent:,} messages, {sent / elapsed:,.0f} /s; server log {len(twilio.log):,})")
    figure("outbox → local Twilio server", db, f"{sent / elapsed:,.0f} /s")
    if sent < queued:
        print(f"  (sent {sent:,} of {queued:,}; at this rate all {queued:,} would take "
              f"{queued / (sent / elapsed):,.0f} s: extrapolated, not measured)")
    progress = progress_of(send_id)
    print(f"  progress: total {progress.total:,}, sent {progress.sent:,}, remaining {progress.remaining:,}, "
          f"failed {progress.failed:,}")


def run(url: str, data: bytes, args, workdir: str) -> None:
    from core.db import database
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    db = url.split("://")[0].replace("postgresql", "PostgreSQL").replace("sqlite", "SQLite")
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    app = create_app({"database.url": url, "web.secret_key": "bench", "web.public_base_url": "http://127.0.0.1:9",
                      "telephony.provider": "twilio", "twilio.account_sid": ACCOUNT_SID, "twilio.auth_token": AUTH_TOKEN,
                      "twilio.from_number": "+815011112222", "twilio.api_base_url": twilio.url, "sms.mps_limit": 0,
                      "bulk.batch_size": 1000, "bulk.max_recipients": max(args.recipients, 1),
                      "guidance.audio_dir": f"{workdir}/audio"})
    print(f"\nbulk send of {args.recipients:,} CSV rows ({len(data) / 1024 / 1024:.1f} MB, Shift_JIS), database {db}")
    send_limit = None if args.send == "all" else int(args.send)
    with app.app_context(), database.connection_context():
        rss_before = peak_rss_mb()
        send_id, _ = create(data, db)
        rss_after = peak_rss_mb()
        print(f"  peak RSS of the process {rss_after:,.0f} MB (app loaded, before creation {rss_before:,.0f} MB; "
              f"goal < 300 MB)")
        if db == "SQLite":
            print(f"  peak Python allocations during creation {creation_memory(data):,.0f} MB "
                  f"(tracemalloc, separate run)")
        baseline(data, args.recipients, db)
        dispatch(send_id, send_limit, twilio, db)
    database.close()
    twilio.stop()


def summary(columns: list[str]) -> None:
    print("\nsummary (same run)")
    width = max(len(name) for name in FIGURES)
    print(f"  {'figure':<{width}}  " + "  ".join(f"{c:>12}" for c in columns))
    for name, values in FIGURES.items():
        print(f"  {name:<{width}}  " + "  ".join(f"{values.get(c, '–'):>12}" for c in columns))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--send", default="5000", help="outbox rows to send to the local server, 0 or 'all' (default 5000)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sqlite-only", action="store_true", help="do not try PostgreSQL")
    args = parser.parse_args()

    from tests.support.db import PostgresTestDatabase, postgres_reachable

    workdir = tempfile.mkdtemp(prefix="bench-bulk-")
    data = make_csv(args.recipients)
    if args.database_url:
        run(args.database_url, data, args, workdir)
        summary(sorted({db for values in FIGURES.values() for db in values}))
        return 0
    run(f"sqlite:///{workdir}/bench.db", data, args, workdir)
    columns = ["SQLite"]
    if args.sqlite_only:
        print("\nPostgreSQL: not tried (--sqlite-only)")
    elif not postgres_reachable():
        print("\nPostgreSQL: not reachable on 127.0.0.1:5432, skipped")
    else:
        postgres = PostgresTestDatabase()
        postgres.create()
        try:
            run(postgres.url, data, args, workdir)
            columns.append("PostgreSQL")
        finally:
            postgres.drop()
    summary(columns)
    return 0


if __name__ == "__main__":
    sys.exit(main())
