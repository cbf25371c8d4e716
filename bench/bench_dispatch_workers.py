"""SMS dispatch by worker processes on one database (PostgreSQL: SKIP LOCKED): one worker process, then two at once,
each draining the outbox to the local Twilio-compatible server, next to the bare twilio client's create() loop in
the same run. The server's log is the proof that no message went twice.

A worker's time runs from the moment every started worker is ready (imports, app, database connection: a process
starts once and then dispatches for days) until the last one has drained the outbox.

Two passes. First the server answers at once: everything runs on this machine's 2 CPUs, so two workers can only
be as much faster as CPU is left over (one worker, the server and PostgreSQL already use about 1.5 of them). Then
each answer comes --answer-ms later, as from a provider across a network: the workers wait on answers rather
than on CPU, and two workers show what the outbox's claiming (SKIP LOCKED) lets them do side by side.

Usage: .venv/bin/python bench/bench_dispatch_workers.py [--messages 2000] [--answer-ms 20] [--database-url …]
(without --database-url: a new SQLite file, which the worker processes share; their writes take turns)
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench.bench_sms import ACCOUNT_SID, AUTH_TOKEN, app_config, print_baseline, queue, rate


def workers(count: int, config: dict) -> tuple[float, list[int], float, float]:
    """Start `count` worker processes (tests/support/dispatch_worker.py), let them go at once when all are ready;
    seconds until the last one has drained the outbox, how many each handled, their CPU seconds from the go, and
    how many of the machine's CPUs were busy meanwhile (everything: workers, this server, PostgreSQL)."""
    command = [sys.executable, "-m", "tests.support.dispatch_worker", json.dumps(config), "--drain", "--wait-for-go"]
    procs = [subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for _ in range(count)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", "a worker did not start"
    started, (busy, jiffies) = time.time(), machine_cpu()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    answers = [proc.stdout.readline().split() for proc in procs]
    busy, jiffies = (now - then for now, then in zip(machine_cpu(), (busy, jiffies)))
    for proc in procs:
        proc.communicate()
    return (max(float(end) for _, end, _ in answers) - started, [int(handled) for handled, _, _ in answers],
            sum(float(cpu) for _, _, cpu in answers), busy / jiffies * os.cpu_count())


def machine_cpu() -> tuple[int, int]:
    """(busy, all) jiffies of the whole machine since boot, from /proc/stat: every process's share, PostgreSQL's
    backends too."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, idle, iowait, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    busy = user + nice + system + irq + softirq  # guest time is inside user; steal is another machine's
    return busy, busy + idle + iowait


def children_cpu() -> float:
    """CPU seconds of the worker processes that have ended."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--answer-ms", type=int, default=20, help="the second pass: each answer this much later")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from core.db import database
    from tests.support.fake_twilio import FakeTwilio
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    workdir = tempfile.mkdtemp(prefix="bench-dispatch-workers-")
    url = args.database_url or f"sqlite:///{workdir}/bench.db"  # SQLite: the worker processes share the file
    twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN).start()
    config = app_config(url, twilio.url, workdir, **{"sms.carrier_lookup": False, "scheduler.enabled": False})
    app = create_app(config)
    # The local Twilio server runs in this process, beside the whole app: without this, each of the collections its
    # per-request garbage triggers walks the app's objects too (the server would answer several times slower).
    gc.freeze()
    count = args.messages
    print(f"SMS dispatch by worker processes: database {url.split('://')[0]}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {count:,} messages a run, MPS limit off")
    try:
        with app.app_context(), database.connection_context():
            offsets = iter(range(0, 10_000_000, 300_000))
            for delay_ms in (0, args.answer_ms):
                twilio.answer_delay = delay_ms / 1000
                print(f"  the local Twilio server answers {'at once' if not delay_ms else f'after {delay_ms} ms'}:")
                scaling(twilio, config, count, offsets, delay_ms)
    finally:
        twilio.stop()
        database.close()
    return 0


def scaling(twilio, config: dict, count: int, offsets, delay_ms: int) -> None:
    """The bare loop, one worker process, then two, each on `count` messages (the bare loop on fewer when every
    answer waits: it sends one at a time)."""
    from sms.models import Message

    tag = f" ({delay_ms} ms)" if delay_ms else ""
    baseline = print_baseline(twilio, count if not delay_ms else count // 10, label=f"baseline: bare twilio client, "
                                                                                     f"create() loop{tag}")
    results = {}
    for processes in (1, 2):
        ids = queue(count, next(offsets))
        before = len(twilio.log)
        cpu_server, cpu_workers = time.process_time(), children_cpu()
        seconds, handled, cpu_dispatching, busy_cpus = workers(processes, config)
        cpu_server, cpu_workers = time.process_time() - cpu_server, children_cpu() - cpu_workers
        received = [m.to for m in twilio.log[before:]]
        sids = {m.provider_sid for m in Message.select(Message.provider_sid).where(Message.id.in_(ids))}
        results[processes] = count / seconds
        print(f"  {f'{processes} worker process(es){tag}':<44} {seconds:8.2f} s   {rate(count, seconds):>20}   "
              f"{count / seconds / baseline:5.2f}× baseline   handled {handled}, received {len(received):,}, "
              f"duplicates {len(received) - len(set(received))}, rows without a sid {int(None in sids)}")
        print(f"    CPU a message{tag}: workers {cpu_dispatching / count * 1000:.2f} ms dispatching "
              f"({cpu_workers / count * 1000:.2f} ms with start-up), "
              f"local Twilio server {cpu_server / count * 1000:.2f} ms; the machine busy "
              f"{busy_cpus:.2f} of {os.cpu_count()} CPUs while they dispatched")
    print(f"  two processes / one{tag}: {results[2] / results[1]:.2f}×")


if __name__ == "__main__":
    sys.exit(main())
