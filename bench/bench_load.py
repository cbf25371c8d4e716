"""Calls under load: simulated callers while a bulk send dispatches, against the real `python run.py` processes.

For each deployment shape, in the same run and on the same database:
  * "one run.py"      : `python run.py` (web + scheduler, the dispatcher and the bulk runner in one process);
  * "web + worker"    : `python run.py web` and `python run.py worker`, two processes.
CALLERS callers (bench/loadkit.Caller: a call, nine wrong keys with 50–150 ms between them, the status callback,
then the next call; every webhook writes) call through both phases:
  * baseline: the callers alone for BASELINE_SECONDS;
  * dispatch: a bulk send of RECIPIENTS is confirmed (the pages' path: CSV read, numbers checked, draft,
    confirm) and the worker moves it into the outbox and sends it to the local Twilio-compatible server with the
    MPS limit off (the heaviest dispatch); measured from the confirmation until the server has every message.
Prints webhook p50 / p99 of each phase (goal with one run.py on PostgreSQL: p99 < 250 ms), the messages/s seen by
the server, the webhook errors, and each process's resident memory.

Usage: ./dev python bench/bench_load.py [--database-url URL] [--callers 12] [--recipients 1500] [--quick]
"""
from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench import loadkit

BASELINE_SECONDS = 8
FROM = "+815011112222"
DISPATCH_TIMEOUT = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(url: str, workdir: str, twilio_url: str, port: int, extra: dict | None = None) -> dict:
    """Settings of the run.py processes, by environment variables (core.config)."""
    env = {**os.environ, "DATABASE_URL": url, "PORT": str(port), "PUBLIC_BASE_URL": loadkit.PUBLIC_BASE,
           "SECRET_KEY": "bench", "TELEPHONY_PROVIDER": "twilio", "TWILIO_ACCOUNT_SID": loadkit.ACCOUNT_SID,
           "TWILIO_AUTH_TOKEN": loadkit.AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM, "TWILIO_API_BASE_URL": twilio_url,
           "ADMIN_PASSWORD": "bench-password-1", "IVR_WEB__HOST": "127.0.0.1",
           "IVR_GUIDANCE__AUDIO_DIR": f"{workdir}/audio", "IVR_SMS__MPS_LIMIT": "0",
           "IVR_SMS__DISPATCH_INTERVAL_SECONDS": "1", "IVR_BULK__POLL_SECONDS": "1",
           "IVR_SCHEDULER__LEASE_SECONDS": "6"}
    env.update(extra or {})
    return env


class Processes:
    """run.py processes of one deployment shape, logs in the work directory."""

    def __init__(self, commands: list[list[str]], env: dict, workdir: str, label: str):
        self.procs: list[tuple[str, subprocess.Popen]] = []
        for command in commands:
            name = command[0] if command else "serve"
            log = open(f"{workdir}/{label}-{name}.log", "w")  # noqa: SIM115 - open while the process runs
            proc = subprocess.Popen([sys.executable, "run.py", *command], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
            self.procs.append((name, proc))

    def pids(self) -> dict[str, int]:
        return {name: proc.pid for name, proc in self.procs}

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_web(port: int, procs: Processes, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.procs:
            if proc.poll() is not None:
                raise SystemExit(f"run.py {name} ended early (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not answering yet, whatever the reason
            time.sleep(0.3)
    raise SystemExit("run.py did not answer in time")


def wait_for_scheduler(app, timeout: float = 60) -> None:
    """Until some process holds the scheduler lease (the bulk runner and the dispatcher run there)."""
    from core import clock
    from core.db import database
    from core.models import SchedulerLease

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context(), database.connection_context():
            if SchedulerLease.select().where(SchedulerLease.expires_at > clock.now()).exists():
                return
        time.sleep(0.3)
    raise SystemExit("no scheduler took the lease")


def csv_of(count: int, offset: int) -> bytes:
    lines = ["名前,電話番号"] + [f"顧客{i},0901{offset + i:07d}" for i in range(count)]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


def confirm_bulk_send(app, count: int, offset: int) -> int:
    """A bulk send through the pages' path, confirmed to start now; its id."""
    from core.db import database
    from sms.bulk import sends
    from sms.bulk.recipients import read_csv

    with app.app_context(), database.connection_context():
        table = read_csv(csv_of(count, offset))
        found = sends.build_recipients(table.candidates)
        draft = sends.create_draft(found, source="csv", actor="bench", broken=table.broken, empty=table.skipped)
        form, errors = sends.read_message_form(["負荷試験のお知らせです。停止は {optout_url}"], [None], schedule=False)
        assert not errors, errors
        return sends.confirm(draft.id, form, "bench").id


def sent_count(twilio, offset: int, count: int) -> int:
    wanted = {f"+81901{offset + i:07d}" for i in range(count)}
    return sum(1 for message in list(twilio.log) if message.to in wanted)


def run_shape(label: str, commands: list[list[str]], app, twilio, url: str, workdir: str, callers: int,
              recipients: int, offset: int) -> dict:
    port = free_port()
    procs = Processes(commands, process_env(url, workdir, twilio.url, port), workdir, label.replace(" ", ""))
    try:
        wait_for_web(port, procs)
        wait_for_scheduler(app)

        def dispatch() -> tuple[int, tuple[dict, dict]]:
            rss_before = {name: loadkit.rss_mb(pid) for name, pid in procs.pids().items()}
            confirm_bulk_send(app, recipients, offset)
            deadline = time.perf_counter() + DISPATCH_TIMEOUT
            while sent_count(twilio, offset, recipients) < recipients and time.perf_counter() < deadline:
                time.sleep(0.2)
            rss_after = {name: loadkit.rss_mb(pid) for name, pid in procs.pids().items()}
            return sent_count(twilio, offset, recipients), (rss_before, rss_after)

        phases = loadkit.callers_around(port, callers, dispatch, baseline_seconds=BASELINE_SECONDS,
                                        warm_up_seconds=2)
    finally:
        procs.stop()
    sent, rss = phases.outcome
    return {"label": label, "baseline": phases.baseline, "during": phases.during, "seconds": phases.seconds,
            "sent": sent, "errors": phases.errors, "rss": rss}


def report(result: dict, recipients: int) -> None:
    label = result["label"]
    print(f"  {f'baseline: webhooks, callers alone ({label})':<58} {loadkit.summary(result['baseline'])}")
    print(f"  {f'webhooks while the bulk send dispatches ({label})':<58} {loadkit.summary(result['during'])}")
    print(f"  {f'bulk send to the server ({label})':<58} {result['seconds']:8.1f} s   "
          f"{result['sent'] / result['seconds']:,.0f} messages/s   ({result['sent']:,} of {recipients:,} sent)")
    before, after = result["rss"]
    memory = ", ".join(f"{name} {before[name]:.0f} → {after[name]:.0f} MB" for name in before)
    errors = result["errors"]
    print(f"  {f'webhook errors ({label})':<58} {len(errors)}" + (f"   first: {errors[0]}" if errors else ""))
    print(f"  {f'resident memory ({label})':<58} {memory}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--callers", type=int, default=12)
    parser.add_argument("--recipients", type=int, default=1500)
    parser.add_argument("--quick", action="store_true", help="500 recipients")
    args = parser.parse_args()
    recipients = 500 if args.quick else args.recipients

    import logging

    from core.db import database
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    workdir = tempfile.mkdtemp(prefix="bench-load-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"
    twilio = FakeTwilio(loadkit.ACCOUNT_SID, loadkit.AUTH_TOKEN).start()
    app = create_app(loadkit.bench_settings(url, workdir, **{
        "scheduler.enabled": False, "telephony.provider": "twilio", "twilio.from_number": FROM,
        "twilio.api_base_url": twilio.url, "bulk.max_recipients": max(recipients, 1)}))
    with app.app_context(), database.connection_context():
        import sms

        sms.seed_defaults(app)
        loadkit.seed_flow()
    database.close()
    print(f"calls under load: {args.callers} callers, a bulk send of {recipients:,} (MPS limit off), "
          f"{url.split('://')[0]}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; logs in {workdir}")
    shapes = [("one run.py", [[]]), ("web + worker", [["web"], ["worker"]])]
    ok = True
    for n, (label, commands) in enumerate(shapes):
        result = run_shape(label, commands, app, twilio, url, workdir, args.callers, recipients, n * 1_000_000)
        report(result, recipients)
        ok &= result["sent"] == recipients and not result["errors"]
    twilio.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
