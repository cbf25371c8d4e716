"""Notification benchmark: what announcing an event costs the webhook that records it, and the worker's rate.

1. The status callback of an abandoned call (`POST /twilio/voice/status`, signed, through the app), timed with
   no destination wanting the event (the baseline: announce writes nothing) and with three that do (one event row
   and three delivery rows in the same transaction). Alternating rounds, medians of the per-request times.
2. The worker sending 300 deliveries to a local HTTP receiver (signed webhook): deliveries per second.
"""
from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

FLOW_NUMBER = "+815011112222"
ROUNDS = 6
CALLS_PER_ROUND = 40
DELIVERIES = 300


def build(db_path: Path):
    from core.db import database
    from guidance.public import ensure_guidance
    from ivr.spec import FlowSpec, NodeSpec
    from ivr.store import save_flow
    from web import create_app

    app = create_app({"database.url": f"sqlite:///{db_path}", "web.secret_key": "bench", "twilio.auth_token": "bench",
                      "web.public_base_url": "http://localhost", "guidance.audio_dir": str(db_path.parent / "audio")})
    with app.app_context(), database.connection_context():
        prompt = ensure_guidance("bench_menu", "pb", "ご用件の番号を押してください。")  # synthesized once, here
        menu = NodeSpec(key="main", kind="menu", name="メニュー", guidance=prompt, exits={"1": "end", "fallback": "end"})
        end = NodeSpec(key="end", kind="hangup", name="終話")
        save_flow(FlowSpec(entry="main", nodes={"main": menu, "end": end}), name="bench", number=FLOW_NUMBER)
    return app


def abandoned_call_times(app, count: int, offset: int) -> list[float]:
    """Each call: answered, then hung up mid-flow (outside the timing); the status callback is timed."""
    from core.twilio import inbound_call_params, signature_for

    client = app.test_client()
    times = []
    for n in range(count):
        sid = f"CA{offset + n:032x}"
        ring = inbound_call_params(sid, "+819012345678", FLOW_NUMBER, "AC" + "1" * 32, status="ringing")
        with app.app_context():
            client.post("/twilio/voice", data=ring,
                        headers={"X-Twilio-Signature": signature_for("http://localhost/twilio/voice", ring)})
            ended = inbound_call_params(sid, "+819012345678", FLOW_NUMBER, "AC" + "1" * 32, status="completed")
            signature = signature_for("http://localhost/twilio/voice/status", ended)
        started = time.perf_counter()
        client.post("/twilio/voice/status", data=ended, headers={"X-Twilio-Signature": signature})
        times.append(time.perf_counter() - started)
    return times


def set_destinations(app, count: int, url: str = "http://127.0.0.1:9/") -> None:
    from core.db import database
    from notify.models import Delivery, Destination, Event

    with app.app_context(), database.connection_context():
        Delivery.delete().execute()
        Event.delete().execute()
        Destination.delete().execute()
        for n in range(count):
            Destination.create(name=f"d{n}", kind="webhook", target=url, secret="k", events="call.abandoned")


def receiver() -> tuple[str, ThreadingHTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


def main() -> int:
    from core import events
    from core.db import database
    from notify.outbox import run_deliveries

    with tempfile.TemporaryDirectory() as tmp:
        app = build(Path(tmp) / "bench.db")
        results = {0: [], 3: []}
        offset = 0
        for _ in range(ROUNDS):
            for wanted in (0, 3):
                set_destinations(app, wanted)
                results[wanted] += abandoned_call_times(app, CALLS_PER_ROUND, offset)
                offset += CALLS_PER_ROUND
        from notify.models import Event

        with app.app_context(), database.connection_context():
            assert Event.select().count() == CALLS_PER_ROUND  # the last round (three destinations) was announced
        base, told = statistics.median(results[0]) * 1000, statistics.median(results[3]) * 1000
        print(f"status callback of an abandoned call, median of {len(results[0])}: "
              f"no destination {base:.2f} ms, three destinations {told:.2f} ms ({told - base:+.2f} ms)")

        url, server = receiver()
        set_destinations(app, 1, url)
        with app.app_context(), database.connection_context():
            for n in range(DELIVERIES):
                events.announce(events.CALL_ABANDONED, {"from_number": "+819012345678", "n": n})
            started = time.perf_counter()
            sent = 0
            while sent < DELIVERIES:
                sent += run_deliveries(limit=100).sent
            elapsed = time.perf_counter() - started
        server.shutdown()
        print(f"worker: {DELIVERIES} signed webhook deliveries in {elapsed:.2f} s = {DELIVERIES / elapsed:.0f}/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
