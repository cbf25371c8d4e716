"""SMS dispatch with carrier lookups (R-29): the outbox → twilio client → local Twilio-compatible server, with
Twilio Lookup v2 off (sends one at a time, and on the pool of sms.dispatch_concurrency = 4 kept-alive connections),
on for numbers never seen (one lookup a message) and on for numbers in the cache (none),
next to the bare twilio client's create() loop measured in the same run. The server's own logs are checked: one
message per queued row, and the lookups it answered.

Usage: .venv/bin/python bench/bench_sms_carriers.py [--messages 1000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench.bench_sms import app_on_local_twilio, check_server_log, drain, print_baseline, queue, rate


def run(app, twilio, label: str, count: int, offset: int, lookups: bool, baseline: float,
        concurrency: int = 4) -> float:
    """Queue `count` messages to numbers from `offset`, drain the outbox, print the rate and what the server saw."""
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.carrier_lookup": lookups,
                                                               "sms.dispatch_concurrency": concurrency})
    ids = queue(count, offset)
    asked, received = len(twilio.lookups), len(twilio.log)
    started = time.perf_counter()
    handled = drain()
    seconds = time.perf_counter() - started
    per_second = handled / seconds if seconds else 0.0
    print(f"  {label:<44} {seconds:8.2f} s   {rate(handled, seconds):>20}   {per_second / baseline:5.2f}× baseline"
          f"   lookups {len(twilio.lookups) - asked:,}, messages {len(twilio.log) - received:,}")
    print(f"    {check_server_log(twilio, ids)}")
    return per_second


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from core.db import database
    from sms.models import CarrierCache, Message

    url, twilio, app = app_on_local_twilio("bench-sms-carriers-", args.database_url)
    count = args.messages
    print(f"SMS dispatch with carrier lookups: database {url.split('://')[0]}, local Twilio server {twilio.url}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"dispatch of {count:,} messages a run, MPS limit off")
    with app.app_context(), database.connection_context():
        baseline = print_baseline(twilio, count)
        run(app, twilio, "lookups off, one request at a time", count, 400_000, False, baseline, concurrency=1)
        off = run(app, twilio, "lookups off", count, 0, False, baseline)
        uncached = run(app, twilio, "lookups on, numbers not cached (1 each)", count, 200_000, True, baseline)
        cached = run(app, twilio, "lookups on, numbers cached (same numbers)", count, 200_000, True, baseline)
        print(f"  cache rows {CarrierCache.select().count():,}; carriers stored "
              f"{Message.select().where(Message.carrier != '').count():,} of {Message.select().count():,} messages")
        print(f"  relative to lookups off: uncached {uncached / off:.2f}×, cached {cached / off:.2f}×")
    twilio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
