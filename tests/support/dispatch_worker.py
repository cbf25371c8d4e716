"""A dispatch worker process, as tests and bench/bench_dispatch_workers.py start it:

    python -m tests.support.dispatch_worker SETTINGS_JSON [--drain] [--wait-for-go]

It builds the app from the settings (create_app's mapping, as JSON) and runs sms.outbox.run_dispatch over and over:
with --drain until a run finds nothing to do, else until SIGTERM (an empty outbox is polled every 0.05 s, as the
scheduler's job would be). Last it prints how many messages it handled, the time.time() it stopped and the CPU
seconds it used since it began dispatching (start-up left out). With
--wait-for-go it prints "ready" once it is connected and waits for a line on stdin, so several can start together.
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time

POLL_SECONDS = 0.05


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings")
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--wait-for-go", action="store_true")
    args = parser.parse_args(argv)

    from core.db import database
    from sms.outbox import run_dispatch
    from web import create_app

    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # one INFO block per request otherwise
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    app = create_app(json.loads(args.settings))
    handled = 0
    with app.app_context(), database.connection_context():
        if args.wait_for_go:
            print("ready", flush=True)
            sys.stdin.readline()
        began = time.process_time()
        while not stop.is_set():
            count = run_dispatch().handled
            handled += count
            if not count:
                if args.drain:
                    break
                stop.wait(POLL_SECONDS)
    print(handled, time.time(), time.process_time() - began, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
