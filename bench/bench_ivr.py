"""IVR webhook benchmark (R-06, R-07): the full Gather webhook next to a bare Flask endpoint, same run.

The full webhook is what Twilio posts after a <Gather>: signature check (RequestValidator against
PUBLIC_BASE_URL), the engine on the call as this process stored it last (ivr.calls: else the call read
under a lock), the guidance playlists read, the call state, events and answer written by one conditional
statement (its own transaction; one round trip on PostgreSQL), TwiML built with VoiceResponse; answered, as in production, by ivr.webhooks' WSGI shortcut in front of Flask. Each request is a mis-entry, so every one changes the database (retry counted, events
stored) and answers a real re-prompt; a call takes 9 of them (the menu allows 10 tries), then the
next call is used. The bare endpoint is a Flask app answering a constant TwiML of the same size.

Both are served the same way as `python run.py` serves (waitress, in this process) and driven over
one keep-alive HTTP connection with the same signed form bodies (made before timing starts). The two
are timed in alternating rounds, so a busy machine slows both alike; requests/s is the median of the
rounds' rates (a burst of other work spoils one round, not the figure). Prints requests/s and p50/p99
latency for each; goal: the full webhook reaches at least half the bare endpoint's throughput.
A second pass with 4 concurrent connections shows behaviour under load.

Usage: ./dev python bench/bench_ivr.py [--database-url URL] [--quick]   (default: a new SQLite file)
"""
from __future__ import annotations

import argparse
import http.client
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

PUBLIC_BASE = "https://ivr.example.jp"
FLOW_NUMBER = "+815011112222"
GATHERS_PER_CALL = 9
CALLS = 120                  # 1,080 timed Gather requests
WARMUP_CALLS = 5
ROUNDS = 12                  # alternating full / bare rounds of CALLS / ROUNDS calls each
CONCURRENT_CLIENTS = 4


def build_app(directory: Path, database_url: str | None = None):
    from web import create_app

    return create_app({
        "database.url": database_url or f"sqlite:///{directory / 'bench.db'}",
        "web.public_base_url": PUBLIC_BASE,
        "web.secret_key": "bench",
        "twilio.auth_token": "bench-auth-token",
        "guidance.audio_dir": str(directory / "audio"),
        "scheduler.enabled": False,
    })


def seed_flow(app) -> None:
    import sms
    from core.db import database
    from guidance.public import ensure_guidance
    from ivr.spec import FlowSpec, NodeSpec
    from ivr.store import save_flow

    with app.app_context(), database.connection_context():
        sms.seed_defaults(app)
        menu = ensure_guidance("ベンチ_メニュー", "pb", "ご用件の番号を押してください。")
        mis_entry = ensure_guidance("ベンチ_入力ミス", "mis_entry", "入力が間違っています。もう一度入力してください。")
        closing = ensure_guidance("ベンチ_終話", "closing", "お電話ありがとうございました。")
        nodes = [
            NodeSpec("main", "menu", "メインメニュー", guidance=menu, mis_entry_guidance=mis_entry, max_tries=10,
                     max_mis_entries=10,
                     exits={"1": "sms", "fallback": "closing"}),
            NodeSpec("sms", "sms", "SMS", params={"box_number": 1}, exits={"next": "closing", "cannot_send": "closing"}),
            NodeSpec("closing", "hangup", "終話", guidance=closing),
        ]
        save_flow(FlowSpec("main", {n.key: n for n in nodes}), name="ベンチ", number=FLOW_NUMBER)


def signed(app, path: str, params: dict) -> tuple[str, bytes, dict]:
    from core.twilio import signature_for

    with app.app_context():
        signature = signature_for(PUBLIC_BASE + path, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return path, urlencode(params).encode(), headers


def call_params(sid: str, **extra) -> dict:
    from core.twilio import inbound_call_params

    return inbound_call_params(sid, "+819012345678", FLOW_NUMBER, "AC" + "1" * 32, **extra)


def plan_calls(app, first: int, count: int) -> tuple[list, list]:
    """(requests that start the calls, the Gather requests to time): signed before anything is timed."""
    starts, gathers = [], []
    for n in range(first, first + count):
        sid = f"CA{n:032x}"
        starts.append(signed(app, "/twilio/voice", call_params(sid, CallStatus="ringing")))
        for step in range(1, GATHERS_PER_CALL + 1):
            gathers.append(signed(app, f"/twilio/voice/step/{step}", call_params(sid, Digits="9")))
    return starts, gathers


def serve(app, threads: int = 4):
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=threads)
    threading.Thread(target=server.run, daemon=True).start()
    return server, server.effective_port


def send_all(port: int, requests: list, check: bytes | None = None) -> list[float]:
    """Latencies (ms) of the requests over one keep-alive connection; each answer must be 200 TwiML."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    latencies = []
    for path, body, headers in requests:
        started = time.perf_counter()
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status != 200 or (check and check not in data):
            raise SystemExit(f"unexpected answer {response.status} from {path}: {data[:300]!r}")
    connection.close()
    return latencies


def concurrent(port: int, batches: list[list], check: bytes | None) -> tuple[float, list[float]]:
    """Send each batch on its own connection at the same time; (wall seconds, all latencies)."""
    results: list[list[float]] = [[] for _ in batches]
    threads = [threading.Thread(target=lambda i=i: results[i].extend(send_all(port, batches[i], check)))
               for i in range(len(batches))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, [x for r in results for x in r]


def alternate(port: int, bare_port: int, gathers: list) -> tuple[list[float], list[float], list[float], list[float]]:
    """Time the same requests against both servers in alternating rounds (whole calls per round):
    (full rates per round, full latencies, bare rates per round, bare latencies)."""
    per_round = len(gathers) // ROUNDS // GATHERS_PER_CALL * GATHERS_PER_CALL
    full_rates: list[float] = []
    bare_rates: list[float] = []
    full_latencies: list[float] = []
    bare_latencies: list[float] = []
    for start in range(0, len(gathers), per_round):
        chunk = gathers[start:start + per_round]
        for target, check, rates, latencies in ((port, b"<Gather", full_rates, full_latencies),
                                                (bare_port, None, bare_rates, bare_latencies)):
            started = time.perf_counter()
            latencies += send_all(target, chunk, check)
            rates.append(len(chunk) / (time.perf_counter() - started))
    return full_rates, full_latencies, bare_rates, bare_latencies


def report(label: str, rate: float, latencies: list[float]) -> float:
    latencies = sorted(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"  {label:<44} {rate:8.0f} req/s   p50 {statistics.median(latencies):6.2f} ms   p99 {p99:6.2f} ms")
    return rate


def bare_app(twiml: bytes):
    from flask import Flask, Response

    bare = Flask("bare")

    @bare.post("/twilio/voice/step/<int:step>")
    def gather(step: int):
        return Response(twiml, mimetype="text/xml")

    return bare


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--quick", action="store_true", help="a third of the calls")
    return parser.parse_args()


def main() -> int:
    global CALLS
    from core.db import database

    args = parse_args()
    if args.quick:
        CALLS = CALLS // 3
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp), args.database_url)
        kind = "PostgreSQL" if args.database_url and args.database_url.startswith("postgres") else "SQLite WAL"
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth 1" under the concurrent pass
        seed_flow(app)
        database.close()
        _server, port = serve(app)
        _, warm = plan_calls(app, 0, WARMUP_CALLS)
        starts, gathers = plan_calls(app, WARMUP_CALLS, CALLS)
        warm_starts, _ = plan_calls(app, 0, WARMUP_CALLS)
        send_all(port, warm_starts, b"<Gather")
        send_all(port, warm, b"<Gather")
        send_all(port, starts, b"<Gather")
        sample = http.client.HTTPConnection("127.0.0.1", port)
        path, body, headers = signed(app, "/twilio/voice", call_params("CA" + "f" * 32, CallStatus="ringing"))
        sample.request("POST", path, body=body, headers=headers)
        constant = sample.getresponse().read()  # a real answer of the same size for the bare endpoint
        _bare_server, bare_port = serve(bare_app(constant))
        send_all(bare_port, warm)

        print(f"Gather webhook, {len(gathers)} requests over one keep-alive connection (waitress, {kind}), "
              f"{ROUNDS} alternating rounds:")
        full_rates, full_latencies, bare_rates, bare_latencies = alternate(port, bare_port, gathers)
        full_rate = report("full webhook (signature, DB writes, TwiML)", statistics.median(full_rates), full_latencies)
        bare_rate = report("bare Flask endpoint, constant TwiML", statistics.median(bare_rates), bare_latencies)
        print(f"  full / bare throughput: {full_rate / bare_rate:.2f} (goal: at least 0.50)")

        starts2, gathers2 = plan_calls(app, WARMUP_CALLS + CALLS, CALLS)
        send_all(port, starts2, b"<Gather")
        per_call = [gathers2[i:i + GATHERS_PER_CALL] for i in range(0, len(gathers2), GATHERS_PER_CALL)]
        batches = [[r for call in per_call[i::CONCURRENT_CLIENTS] for r in call] for i in range(CONCURRENT_CLIENTS)]
        print(f"Same, {CONCURRENT_CLIENTS} concurrent connections ({len(gathers2)} requests):")
        seconds, latencies = concurrent(port, batches, b"<Gather")
        full_c = report("full webhook", len(latencies) / seconds, latencies)
        seconds, latencies = concurrent(bare_port, batches, None)
        bare_c = report("bare Flask endpoint", len(latencies) / seconds, latencies)
        print(f"  full / bare throughput: {full_c / bare_c:.2f}")

        with app.app_context(), database.connection_context():
            from ivr.models import Call, CallEvent

            calls = Call.select().count()
            events = CallEvent.select().where(CallEvent.kind == "mis_entry").count()
        print(f"  (stored: {calls} calls, {events} mis-entry events)")
        ok = full_rate >= 0.5 * bare_rate
        # The servers' threads are daemons and end with the process; closing them under a keep-alive
        # channel that waitress is still winding down only prints a spurious traceback.
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
