"""Shared pieces of the load benchmarks (bench_load, bench_soak, bench_retention): simulated callers posting
signed Gather webhooks the way Twilio does, latency figures, resident memory of a process.

Not a benchmark itself (the harness runs bench_*.py only).
"""
from __future__ import annotations

import http.client
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

PUBLIC_BASE = "https://ivr.example.jp"
FLOW_NUMBER = "+815011112222"
AUTH_TOKEN = "bench-auth-token"
ACCOUNT_SID = "AC" + "1" * 32
GATHERS_PER_CALL = 9  # mis-entries: every one writes (retry counted, events stored); the menu allows 10 of them


def seed_flow() -> None:
    """The benchmark's flow on FLOW_NUMBER: a menu answered with wrong keys, as bench_ivr uses (app context)."""
    from guidance.public import ensure_guidance
    from ivr.spec import FlowSpec, NodeSpec
    from ivr.store import save_flow

    menu = ensure_guidance("ベンチ_メニュー", "pb", "ご用件の番号を押してください。")
    mis_entry = ensure_guidance("ベンチ_入力ミス", "mis_entry", "入力が間違っています。もう一度入力してください。")
    closing = ensure_guidance("ベンチ_終話", "closing", "お電話ありがとうございました。")
    nodes = [
        NodeSpec("main", "menu", "メインメニュー", guidance=menu, mis_entry_guidance=mis_entry, max_tries=10,
                 max_mis_entries=10, exits={"1": "closing", "fallback": "closing"}),
        NodeSpec("closing", "hangup", "終話", guidance=closing),
    ]
    save_flow(FlowSpec("main", {n.key: n for n in nodes}), name="ベンチ", number=FLOW_NUMBER)


@dataclass
class Latencies:
    """(moment, milliseconds) of every webhook answered, and the errors seen; shared by the caller threads."""

    samples: list[tuple[float, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, at: float, ms: float) -> None:
        with self.lock:
            self.samples.append((at, ms))

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)

    def between(self, start: float, end: float) -> list[float]:
        with self.lock:
            return [ms for at, ms in self.samples if start <= at < end]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(len(ordered) * fraction) - 1))]


def summary(values: list[float]) -> str:
    if not values:
        return "no requests"
    return (f"p50 {statistics.median(values):6.1f} ms   p99 {percentile(values, 0.99):6.1f} ms   "
            f"max {max(values):6.1f} ms   ({len(values):,} requests)")


class Caller(threading.Thread):
    """One caller after another on one line: a call starts, nine wrong keys with a pause between them (a person
    listening to the prompt, shortened: think_seconds), then the status callback; until stopped."""

    def __init__(self, port: int, number: int, results: Latencies, stop: threading.Event,
                 think_seconds: tuple[float, float] = (0.05, 0.15), seed: int = 0):
        super().__init__(daemon=True, name=f"caller-{number}")
        self.port, self.number, self.results, self.stop = port, number, results, stop
        self.think = think_seconds
        self.rng = random.Random(seed * 1000 + number)
        self.validator = RequestValidator(AUTH_TOKEN)
        self.calls = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stop.is_set():
            self.calls += 1
            sid = f"CA{self.number:08d}{self.calls:08d}{self.rng.getrandbits(64):016x}"[:34]
            try:
                self.post(connection, "/twilio/voice", sid, CallStatus="ringing")
                for step in range(1, GATHERS_PER_CALL + 1):
                    if self.stop.wait(self.rng.uniform(*self.think)):
                        break
                    self.post(connection, f"/twilio/voice/step/{step}", sid, Digits="9")
                self.post(connection, "/twilio/voice/status", sid, CallStatus="completed", CallDuration="30")
            except Exception as exc:  # noqa: BLE001 - counted, and the line goes on with a new connection
                self.results.error(f"{type(exc).__name__}: {exc}"[:200])
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.close()

    def post(self, connection, path: str, sid: str, **extra) -> None:
        from core.twilio import inbound_call_params

        params = inbound_call_params(sid, f"+8190{self.number:08d}", FLOW_NUMBER, ACCOUNT_SID, **extra)
        signature = self.validator.compute_signature(PUBLIC_BASE + path, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        started = time.perf_counter()
        connection.request("POST", path, body=urlencode(params).encode(), headers=headers)
        response = connection.getresponse()
        data = response.read()
        done = time.perf_counter()
        if response.status not in (200, 204) or (response.status == 200 and b"<Response" not in data):
            self.results.error(f"{path}: {response.status} {data[:120]!r}")
            return
        self.results.add(done, (done - started) * 1000)


def start_callers(port: int, count: int, results: Latencies, stop: threading.Event, **options) -> list[Caller]:
    callers = [Caller(port, n, results, stop, **options) for n in range(count)]
    for caller in callers:
        caller.start()
    return callers


@dataclass
class Phases:
    """Webhook latencies (ms) of the callers alone and while the action ran, in one run; the action's own figures."""

    baseline: list[float]
    during: list[float]
    seconds: float  # how long the action took
    errors: list[str]
    outcome: Any  # what the action returned


def callers_around(port: int, count: int, action: Callable[[], Any], *, baseline_seconds: float,
                   warm_up_seconds: float = 1.0, **options) -> Phases:
    """`count` callers call all through: the first calls under way (warm_up_seconds), then the callers alone
    (baseline_seconds), then `action()` runs to its end while they go on; then they stop."""
    results, stop = Latencies(), threading.Event()
    callers = start_callers(port, count, results, stop, **options)
    try:
        time.sleep(warm_up_seconds)
        baseline_start = time.perf_counter()
        time.sleep(baseline_seconds)
        baseline_end = started = time.perf_counter()
        outcome = action()
        ended = time.perf_counter()
    finally:
        stop.set()
        for caller in callers:
            caller.join()
    return Phases(results.between(baseline_start, baseline_end), results.between(started, ended),
                  ended - started, results.errors, outcome)


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process (MB), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("postgres://", "postgresql://"))


def bench_settings(database_url: str, workdir: str, **extra) -> dict:
    return {"database.url": database_url, "web.public_base_url": PUBLIC_BASE, "web.secret_key": "bench",
            "twilio.auth_token": AUTH_TOKEN, "twilio.account_sid": ACCOUNT_SID,
            "guidance.audio_dir": f"{workdir}/audio", **extra}
