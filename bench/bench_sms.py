"""SMS benchmark: dispatch through the real twilio client to the local Twilio-compatible server, the accuracy of
the messages-per-second limit, and number validation.

Prints
  * dispatch throughput (messages/s) of the outbox → twilio client → local server with the MPS limit off, next to a
    baseline in the same run: the bare twilio client calling messages.create in a loop (no database, no outbox;
    carrier lookups off, as there: bench_sms_carriers measures them);
    the server's own log is checked for exactly one message per queued row;
  * the MPS limit set to 10: the rate the local server actually saw (from its own receive times), the spacing
    between sends and the most messages inside any 1-second window;
  * validation time for 100,000 numbers (core.phone.check_mobile on mixed input: hyphens, full-width digits,
    050 / 020 / 090-0… / landlines / junk), next to phonenumbers' parse + is_valid_number + number_type alone.

Usage: ./dev python bench/bench_sms.py [--messages 2000] [--mps-messages 50] [--numbers 100000] [--database-url URL]
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

ACCOUNT_SID, AUTH_TOKEN = "AC" + "5" * 32, "bench-auth-token"
FROM = "+815011112222"
BODY = "ご予約ありがとうございます。詳細は店舗までお問い合わせください。（ベンチマーク {n}）"


def mobile(i: int) -> str:
    prefix = ("090", "080", "070")[i % 3]
    return f"{prefix}-{1000 + i // 10000 % 9000:04d}-{i % 10000:04d}"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f} messages/s" if seconds > 0 else "n/a"


# --- dispatch ------------------------------------------------------------------------------------------------
def baseline_client(twilio, count: int) -> float:
    """The bare twilio client as its documentation makes one (not core.twilio's, which reads the environment once):
    messages.create in a loop against the same server (the floor of any dispatcher)."""
    from twilio.rest import Client

    client = Client(ACCOUNT_SID, AUTH_TOKEN)
    client.api.base_url = twilio.url
    started = time.perf_counter()
    for i in range(count):
        client.messages.create(to=f"+8180{i:08d}", from_=FROM, body=BODY.format(n=i))
    return time.perf_counter() - started


def queue(count: int, offset: int) -> list[int]:
    from sms.sending import queue_text

    ids = []
    for i in range(count):
        result = queue_text(BODY.format(n=offset + i), mobile(offset + i), source="api")
        assert result.ok, result.reason
        ids.append(result.message_id)
    return ids


def drain(limit_per_run: int = 1000) -> int:
    from sms.outbox import run_dispatch

    handled = 0
    while True:
        report = run_dispatch(limit=limit_per_run)
        if not report.handled:
            return handled
        handled += report.handled


def check_server_log(twilio, ids: list[int]) -> str:
    """One message on the local server per queued row, with the provider id the row recorded."""
    from sms.models import Message

    sids = {m.provider_sid for m in Message.select(Message.provider_sid).where(Message.id.in_(ids))}
    logged = [m.sid for m in twilio.log if m.sid in sids]
    ok = len(logged) == len(set(logged)) == len(ids) and None not in sids
    return f"server log: {len(logged):,} of {len(ids):,} rows, duplicates {len(logged) - len(set(logged))}" + (
        "" if ok else "  ** MISMATCH **")


def set_mps(app, value: int) -> None:
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.mps_limit": value})


def dispatch_throughput(app, twilio, count: int) -> None:
    print(f"dispatch of {count:,} messages, MPS limit off")
    baseline = print_baseline(twilio, count, width=48)
    set_mps(app, 0)
    started = time.perf_counter()
    ids = queue(count, 0)
    queued = time.perf_counter() - started
    print(f"  {'queue rows (validate, store)':<48} {queued:8.2f} s   {rate(count, queued)}")
    before = len(twilio.log)
    started = time.perf_counter()
    handled = drain()
    seconds = time.perf_counter() - started
    print(f"  {'outbox → twilio client → local server':<48} {seconds:8.2f} s   {rate(handled, seconds):>20}"
          f"   {handled / seconds / baseline:5.2f}× baseline   ({handled:,} handled, {len(twilio.log) - before:,} received)")
    print(f"  {check_server_log(twilio, ids)}")


def mps_accuracy(app, twilio, count: int, limit: int = 10) -> None:
    print(f"MPS limit {limit}: {count} messages queued at once, rate seen by the local server")
    set_mps(app, limit)
    ids = queue(count, 500_000)
    before = len(twilio.log)
    started = time.perf_counter()
    handled = drain()
    wall = time.perf_counter() - started
    stamps = sorted(m.date_created for m in twilio.log[before:])
    span = (stamps[-1] - stamps[0]).total_seconds()
    gaps = [(b - a).total_seconds() * 1000 for a, b in itertools.pairwise(stamps)]
    seen = (len(stamps) - 1) / span if span else float("inf")
    window = max(sum(1 for t in stamps[i:] if t - s < dt.timedelta(seconds=1)) for i, s in enumerate(stamps))
    print(f"  {'handled / received':<48} {handled:,} / {len(stamps):,}   ({wall:.2f} s wall)")
    print(f"  {'rate seen by the server (first → last send)':<48} {seen:8.2f} messages/s   "
          f"(error {100 * (seen - limit) / limit:+.1f} %)")
    print(f"  {'spacing between sends ms (min / median / max)':<48} {min(gaps):.1f} / {statistics.median(gaps):.1f} / "
          f"{max(gaps):.1f}   (ideal {1000 / limit:.1f})")
    print(f"  {'most sends inside any 1-second window':<48} {window}   (limit {limit})")
    print(f"  {check_server_log(twilio, ids)}")
    set_mps(app, 0)


# --- validation ----------------------------------------------------------------------------------------------
FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


REFUSED = [
    lambda a, b: f"050-{a:04d}-{b:04d}",        # IP phone
    lambda a, b: f"020-{a:04d}-{b:04d}",        # M2M
    lambda a, b: f"090-0{a % 1000:03d}-{b:04d}",  # unassigned 090-0
    lambda a, b: f"03-{a:04d}-{b:04d}",         # landline
    lambda a, b: f"0120-{a % 1000:03d}-{b % 1000:03d}",  # free dial
    lambda a, b: f"090-{a:04d}-{b % 1000:03d}",   # one digit short
    lambda a, b: f"09a-{a:04d}-{b:04d}",        # junk
]


def number_inputs(count: int, seed: int = 5) -> list[str]:
    """Mixed input as people type it: 70% mobiles (plain, hyphenated, full-width, spaced, +81), 30% refused kinds."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        a, b = rng.randrange(1000, 10000), rng.randrange(0, 10000)
        if rng.random() < 0.7:
            number = f"{rng.choice(('060', '070', '080', '090'))}-{a:04d}-{b:04d}"
            number = (number.replace("-", ""), number, number.translate(FULL_WIDTH), number.replace("-", " "),
                      "+81 " + number[1:])[i % 5]
        else:
            number = rng.choice(REFUSED)(a, b)
        out.append(number)
    return out


def validation(count: int) -> None:
    import phonenumbers

    from core.phone import check_mobile

    inputs = number_inputs(count)
    print(f"validation of {count:,} numbers (mixed input)")

    def bare():
        accepted = 0
        for raw in inputs:
            try:
                parsed = phonenumbers.parse(raw, "JP")
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(parsed) and \
                    phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE:
                accepted += 1
        return accepted

    started = time.perf_counter()
    bare_accepted = bare()
    base = time.perf_counter() - started
    print(f"  {'baseline: phonenumbers parse + valid + type':<48} {base:8.2f} s   "
          f"({base / count * 1e6:.1f} µs a number, {bare_accepted:,} mobile)")
    started = time.perf_counter()
    results = [check_mobile(raw) for raw in inputs]
    ours = time.perf_counter() - started
    accepted = sum(r.ok for r in results)
    reasons = len({r.reason for r in results if not r.ok})
    print(f"  {'core.phone.check_mobile (R-21, reasons)':<48} {ours:8.2f} s   "
          f"({ours / count * 1e6:.1f} µs a number, {accepted:,} accepted, {count - accepted:,} refused "
          f"with {reasons} distinct reasons; {ours / base:.2f}× baseline)")


def app_config(database_url: str, twilio_url: str, workdir: str, **extra) -> dict:
    """The settings of an app that sends through the local Twilio-compatible server at `twilio_url`."""
    return {"database.url": database_url, "web.secret_key": "bench", "web.public_base_url": "http://127.0.0.1:9",
            "telephony.provider": "twilio", "twilio.account_sid": ACCOUNT_SID, "twilio.auth_token": AUTH_TOKEN,
            "twilio.from_number": FROM, "twilio.api_base_url": twilio_url, "sms.mps_limit": 0,
            "guidance.audio_dir": f"{workdir}/audio", **extra}


def app_on_local_twilio(prefix: str, database_url: str | None, **extra):
    """(database URL, the local Twilio-compatible server, the app sending through it) in a fresh work folder."""
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # one INFO block per request otherwise
    workdir = tempfile.mkdtemp(prefix=prefix)
    url = database_url or f"sqlite:///{workdir}/bench.db"
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    return url, twilio, create_app(app_config(url, twilio.url, workdir, **extra))


def print_baseline(twilio, count: int, width: int = 44, label: str = "baseline: bare twilio client, create() loop"
                   ) -> float:
    """Run and print the bare create() loop; its rate (messages/s), the yardstick of every dispatch figure."""
    seconds = baseline_client(twilio, count)
    print(f"  {label:<{width}} {seconds:8.2f} s   {rate(count, seconds):>20}")
    return count / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--mps-messages", type=int, default=50)
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from core.db import database

    url, twilio, app = app_on_local_twilio("bench-sms-", args.database_url, **{"sms.carrier_lookup": False})
    print(f"SMS benchmark: database {url.split('://')[0]}, local Twilio server {twilio.url}, "
          f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with app.app_context(), database.connection_context():
        dispatch_throughput(app, twilio, args.messages)
        mps_accuracy(app, twilio, args.mps_messages)
    validation(args.numbers)
    twilio.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
