"""Bulk-send benchmark (R-40..R-47): create a send of 100,000 recipients, then dispatch it against the local
Twilio-compatible server.

Prints, for a Shift_JIS CSV of N rows (5% duplicates written differently, 5% not mobile):
  * creation: reading the CSV, checking and de-duplicating the numbers, storing the draft, confirming it —
    time and peak memory (goal: under 10 s and under 300 MB), next to a baseline in the same run: Python's csv
    module alone over the same file and one plain multi-row INSERT of the same number of rows;
  * dispatch: moving every recipient into the SMS outbox (the bulk runner), then sending the outbox through the
    real twilio client to the local server (the SMS dispatcher, no rate limit) — time and messages per second.

Usage: ./dev python bench/bench_bulk.py [--recipients 100000] [--send N|all] [--database-url URL]
`--send` is how many outbox rows are sent to the local server (default 5,000; the time for all of them is then
extrapolated from the measured rate and printed as such; `--send all` sends every one, which takes minutes).
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


def timed(label: str, func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label:<44} {elapsed:8.2f} s", flush=True)
    return result, elapsed


def baseline(data: bytes, rows: int) -> None:
    from core.db import database, insert_rows
    from sms.bulk.models import BulkRecipient, BulkSend

    print("baseline (same run)")
    timed("csv module alone (decode + parse)", lambda: sum(1 for _ in csv.reader(io.StringIO(data.decode("cp932")))))
    send = BulkSend.create(status="cancelled", source="paste", title="bench baseline")
    fields = [BulkRecipient.bulk_send, BulkRecipient.position, BulkRecipient.to_number]
    payload = [(send.id, i, f"+8190{i:08d}") for i in range(rows)]
    with database.atomic():
        timed(f"plain INSERT of {rows:,} rows", insert_rows, BulkRecipient, fields, payload)
    with database.atomic():
        BulkRecipient.delete().where(BulkRecipient.bulk_send == send.id).execute()
        send.delete_instance()


def create(data: bytes) -> tuple[int, float]:
    """The pages' path: read the CSV, check the numbers, store the draft, confirm. Returns (send id, seconds)."""
    from sms.bulk import sends
    from sms.bulk.recipients import read_csv

    print("creation")
    started = time.perf_counter()
    table, _ = timed("read CSV (cp932, header, phone column)", read_csv, data)
    found, _ = timed("check numbers and de-duplicate", sends.build_recipients, table.candidates)
    draft, _ = timed("store the draft (recipients + skipped rows)", sends.create_draft, found, source="csv",
                     actor="bench", broken=table.broken, empty=table.skipped)
    form, errors = sends.read_message_form(["一括配信のベンチマークです。停止は {optout_url}"], [None], schedule=False)
    assert not errors, errors
    send, _ = timed("confirm (tickets, schedule)", sends.confirm, draft.id, form, "bench")
    total = time.perf_counter() - started
    print(f"  {'creation total':<44} {total:8.2f} s   (goal < 10 s)")
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


def dispatch(send_id: int, send_limit: int | None, twilio) -> None:
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
    print(f"  {'recipients into the SMS outbox':<44} {elapsed:8.2f} s   ({moved / elapsed:,.0f} /s)")

    queued = Message.select().where((Message.bulk_send_id == send_id) & Message.due_at.is_null(False)).count()
    target = queued if send_limit is None else min(queued, send_limit)
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
    if sent < queued:
        print(f"  (sent {sent:,} of {queued:,}; at this rate all {queued:,} would take "
              f"{queued / (sent / elapsed):,.0f} s: extrapolated, not measured)")
    progress = progress_of(send_id)
    print(f"  progress: total {progress.total:,}, sent {progress.sent:,}, remaining {progress.remaining:,}, "
          f"failed {progress.failed:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--send", default="5000", help="outbox rows to send to the local server, or 'all' (default 5000)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from core.db import database
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    workdir = tempfile.mkdtemp(prefix="bench-bulk-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    app = create_app({"database.url": url, "web.secret_key": "bench", "web.public_base_url": "http://127.0.0.1:9",
                      "telephony.provider": "twilio", "twilio.account_sid": ACCOUNT_SID, "twilio.auth_token": AUTH_TOKEN,
                      "twilio.from_number": "+815011112222", "twilio.api_base_url": twilio.url, "sms.mps_limit": 0,
                      "bulk.batch_size": 1000, "bulk.max_recipients": max(args.recipients, 1),
                      "guidance.audio_dir": f"{workdir}/audio"})
    data = make_csv(args.recipients)
    print(f"bulk send of {args.recipients:,} CSV rows ({len(data) / 1024 / 1024:.1f} MB, Shift_JIS), "
          f"database {url.split('://')[0]}")
    send_limit = None if args.send == "all" else int(args.send)
    with app.app_context(), database.connection_context():
        rss_before = peak_rss_mb()
        send_id, _ = create(data)
        rss_after = peak_rss_mb()
        print(f"  peak RSS of the process {rss_after:,.0f} MB (app loaded, before creation {rss_before:,.0f} MB; "
              f"goal < 300 MB)")
        print(f"  peak Python allocations during creation {creation_memory(data):,.0f} MB (tracemalloc, separate run)")
        baseline(data, args.recipients)
        dispatch(send_id, send_limit, twilio)
    twilio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
