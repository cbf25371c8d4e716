"""SMS dispatch by worker processes on one database (PostgreSQL: SKIP LOCKED): one worker process, then two at once,
each draining the outbox to the local Twilio-compatible server, next to the bare twilio client's create() loop in
the same run. The server's log is the proof that no message went twice.

Usage: .venv/bin/python bench/bench_dispatch_workers.py [--messages 2000] [--database-url postgresql://…]
(without --database-url: a fresh PostgreSQL database on 127.0.0.1:5432, user postgres, dropped afterwards)
"""
from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench.bench_sms import ACCOUNT_SID, AUTH_TOKEN, FROM, baseline_client, queue, rate  # noqa: E402

WORKER = """
import sys, logging
sys.path.insert(0, {root!r})
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
from core.db import database
from web import create_app
from sms.outbox import run_dispatch
app = create_app({config!r})
with app.app_context(), database.connection_context():
    handled = 0
    while True:
        report = run_dispatch(limit=200)
        if not report.handled:
            break
        handled += report.handled
print(handled)
"""


def app_config(url: str, twilio_url: str, workdir: str) -> dict:
    return {"database.url": url, "web.secret_key": "bench", "web.public_base_url": "http://127.0.0.1:9",
            "telephony.provider": "twilio", "twilio.account_sid": ACCOUNT_SID, "twilio.auth_token": AUTH_TOKEN,
            "twilio.from_number": FROM, "twilio.api_base_url": twilio_url, "sms.mps_limit": 0,
            "sms.carrier_lookup": False, "scheduler.enabled": False, "guidance.audio_dir": f"{workdir}/audio"}


def workers(count: int, config: dict) -> tuple[float, list[int]]:
    """Start `count` worker processes at once; seconds until the last one has drained the outbox."""
    script = WORKER.format(root=str(ROOT), config=config)
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              text=True) for _ in range(count)]
    handled = [int(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    return time.perf_counter() - started, handled


def make_database() -> tuple[str, callable]:
    import psycopg2

    name = f"bench_dispatch_{uuid.uuid4().hex[:8]}"

    def admin(sql: str) -> None:
        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
        conn.autocommit = True
        try:
            conn.cursor().execute(sql)
        finally:
            conn.close()

    admin(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}", lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from core.db import database
    from sms.models import Message
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    workdir = tempfile.mkdtemp(prefix="bench-dispatch-workers-")
    url, drop = (args.database_url, lambda: None) if args.database_url else make_database()
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    config = app_config(url, twilio.url, workdir)
    app = create_app(config)
    count = args.messages
    print(f"SMS dispatch by worker processes: database {url.split('://')[0]}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {count:,} messages a run, MPS limit off")
    try:
        with app.app_context(), database.connection_context():
            seconds = baseline_client(twilio, count)
            baseline = count / seconds
            print(f"  {'baseline: bare twilio client, create() loop':<44} {seconds:8.2f} s   {rate(count, seconds):>20}")
            results = {}
            for processes, offset in ((1, 0), (2, 300_000)):
                ids = queue(count, offset)
                before = len(twilio.log)
                seconds, handled = workers(processes, config)
                received = [m.to for m in twilio.log[before:]]
                sids = {m.provider_sid for m in Message.select(Message.provider_sid).where(Message.id.in_(ids))}
                results[processes] = count / seconds
                print(f"  {f'{processes} worker process(es)':<44} {seconds:8.2f} s   {rate(count, seconds):>20}   "
                      f"{count / seconds / baseline:5.2f}× baseline   handled {handled}, received {len(received):,}, "
                      f"duplicates {len(received) - len(set(received))}, rows without a sid {int(None in sids)}")
            print(f"  two processes / one: {results[2] / results[1]:.2f}×")
    finally:
        twilio.stop()
        database.close()
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
