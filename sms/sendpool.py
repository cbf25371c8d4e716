"""How the dispatcher (sms.outbox) reaches the provider: a Pacer keeps to the MPS limit (R-27) and a SendPool runs the
provider calls on a few threads, each with its own kept-alive connection. Neither touches the database."""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Self

from core.channels import Channel, SendOutcome

# Sends leave 1% further apart than the limit: requests reach Twilio with a few ms of network jitter, and
# exactly 1/MPS apart an 11th send could land inside the same second as the first ten.
PACER_HEADROOM = 1.01


class Pacer:
    """Spaces sends evenly at just under `per_second` (0 = no limit); real monotonic time, it only throttles.

    Thread-safe: each caller reserves the next slot (`wait` returns its ticket) and sleeps until it. A send also
    waits until the send `per_second` tickets before it has been answered (`done`) for a second: that send reached
    the provider before its answer came back, so however long a request takes on its way, no 1-second window at
    the provider ever holds more than `per_second` sends (R-27)."""

    WINDOW = 1.0

    def __init__(self, per_second: float, monotonic=time.monotonic, sleep=time.sleep):
        self.interval = PACER_HEADROOM / per_second if per_second and per_second > 0 else 0.0
        self.monotonic, self.sleep = monotonic, sleep
        self.next_slot: float | None = None
        self.span = max(1, int(per_second or 0))
        self.issued = 0
        self.answered: dict[int, float] = {}  # ticket → when its send was answered (the last `span` or so)
        self.changed = threading.Condition()

    def wait(self) -> int:
        """Block until the next send may go; returns its ticket for `done` (-1 when there is no limit)."""
        if not self.interval:
            return -1
        with self.changed:
            now = self.monotonic()
            slot = now if self.next_slot is None else max(self.next_slot, now)
            self.next_slot = slot + self.interval
            ticket, self.issued = self.issued, self.issued + 1
        if slot > now:
            self.sleep(slot - now)
        if ticket >= self.span:
            with self.changed:
                while (self.span and ticket - self.span not in self.answered):
                    self.changed.wait(timeout=1.0)
                behind = self.answered[ticket - self.span] + self.WINDOW - self.monotonic()
            if behind > 0:
                self.sleep(behind)
        return ticket

    def done(self, ticket: int) -> None:
        """The send of `ticket` has been answered (or failed): later sends may count from now."""
        if ticket < 0:
            return
        with self.changed:
            self.answered[ticket] = self.monotonic()
            for old in [t for t in self.answered if t < ticket - 4 * self.span]:
                del self.answered[old]
            self.changed.notify_all()


class SendPool:
    """The provider calls of the chunks: in order on this thread, or on `size` threads when the provider allows
    concurrent sends (each thread its own provider copy: its own kept-alive connection). `start` hands a chunk
    over and returns at once, so the dispatcher records one chunk and claims the next while this one is sent."""

    def __init__(self, provider: Channel, size: int):
        self.provider = provider
        concurrent = size > 1 and getattr(provider, "concurrent_sends", False)
        self.size = size if concurrent else 1
        self.executor = ThreadPoolExecutor(self.size, thread_name_prefix="sms-send") if concurrent else None
        self.senders: queue.SimpleQueue = queue.SimpleQueue()
        if concurrent:
            for _ in range(self.size):
                self.senders.put(provider.copy())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    def start(self, items: list[tuple[str, str, int]], pacer: Pacer) -> Callable[[], list]:
        """Begin sending (to, body, attempt_seq) items; the returned function waits for their SendOutcomes, in
        the same order. Without threads the items are sent here and now."""
        if self.executor is None:
            outcomes = [self._send(self.provider, item, pacer) for item in items]
            return lambda: outcomes
        futures = [self.executor.submit(self._pooled, item, pacer) for item in items]
        return lambda: [future.result() for future in futures]

    def run_all(self, fn, items: list) -> list:
        """fn(item) for each item, on the pool's threads when there are several (fn must not use the database)."""
        if self.executor is None:
            return [fn(item) for item in items]
        return list(self.executor.map(fn, items))

    def _pooled(self, item, pacer: Pacer) -> SendOutcome:
        sender = self.senders.get()
        try:
            return self._send(sender, item, pacer)
        finally:
            self.senders.put(sender)

    @staticmethod
    def _send(sender: Channel, item, pacer: Pacer) -> SendOutcome:
        to, body, seq = item
        ticket = pacer.wait()
        try:
            return sender.send(to, body, seq)
        finally:
            pacer.done(ticket)


