"""Stand-ins for where notifications go: a real SMTP server (aiosmtpd) and a local HTTP server playing a chat
service's incoming webhook or a CRM, which records every request and answers as told."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notify.models import Destination


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records each POST; answers with the next of `statuses` (then 200). `hold_on` (1-based): that request is
    recorded, `held` is set, and the answer waits until `release` is set."""

    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    hold_on: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        self.requests.append(Received(handler.path, dict(handler.headers.items()), handler.rfile.read(length)))
        if self.hold_on is not None and len(self.requests) == self.hold_on:
            self.held.set()
            self.release.wait(30)
        status = self.statuses.pop(0) if self.statuses else 200
        handler.send_response(status)
        handler.send_header("Content-Length", "2")
        handler.end_headers()
        handler.wfile.write(b"ok")


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            receiver.handle(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    return receiver, server


@pytest.fixture
def receiver():
    found, server = start_receiver()
    yield found
    found.release.set()
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)
    logins: list = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        from email import message_from_bytes, policy

        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def wait_until(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def make_destination(app):
    def make(kind: str = "webhook", target: str = "http://127.0.0.1:9/", events: str = "", **kw) -> Destination:
        from core.events import KINDS

        return Destination.create(name=kw.pop("name", f"{kind} 通知先"), kind=kind, target=target,
                                  events=events or ",".join(KINDS), secret=kw.pop("secret", "s3cret-key"), **kw)

    return make
