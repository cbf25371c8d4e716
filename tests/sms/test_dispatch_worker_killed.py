"""A dispatch worker process killed (SIGKILL) in the middle of a chunk, its work taken over by two others: every
message reaches the local Twilio server exactly once, by its log (issue 17; R-27's pacer and the send pool on).

The first worker is killed while the server holds back its answers: those messages (and the ones of the same chunk
answered before them) are at Twilio but their ids were never stored (the takers find them with the provider's "what
was sent", and adopt them), and the rows behind them in the chunk, and the next chunk, are claimed but were never
sent (the takers send them). The takers run side
by side: on PostgreSQL they claim with SKIP LOCKED, on SQLite behind its one writer.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from core.clock import TOKYO
from core.config import ROOT
from core.db import database
from sms.models import Message, SendAttempt
from sms.outbox import STALE_CLAIM
from sms.sending import queue_text
from tests.bulk.test_restart import kill_when_set, stop, wait_for
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.support.fake_twilio import FakeTwilio

MESSAGES = 40
ANSWERED = 15  # the server answers this many sends, then holds the answers back: the worker is killed then
MPS = 12       # chunks of 12: the kill falls in the second, the third is claimed behind it


@pytest.fixture
def twilio():
    server = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start()  # real time: the workers run on the real clock
    yield server
    server.release_answers()
    server.stop()


def start_worker(settings: dict, log_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.support.dispatch_worker", json.dumps(settings)], cwd=ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=open(log_path, "a"),
                            stderr=subprocess.STDOUT)


def settled() -> bool:
    """Every message has its provider id and no claim is left."""
    with database.connection_context():
        return not Message.select().where(Message.provider_sid.is_null() | Message.claimed_at.is_null(False)).exists()


@pytest.mark.slow
def test_a_worker_killed_mid_chunk_and_two_takers_send_each_message_once(app, app_config, database_url, clock,
                                                                          twilio, tmp_path):
    clock.set(dt.datetime.now(TOKYO).replace(tzinfo=None))  # the workers claim on the real clock
    expected = []
    for n in range(MESSAGES):
        text, number = f"お知らせ {n}", f"090-5555-{n:04d}"
        assert queue_text(text, number, source="api").ok
        expected.append((f"+81905555{n:04d}", text))
    database.close()  # the workers write; this test reads on fresh connections
    settings = {**app_config, "database.url": database_url, "telephony.provider": "twilio",
                "twilio.api_base_url": twilio.url, "twilio.from_number": "+815011112222", "sms.mps_limit": MPS,
                "sms.dispatch_concurrency": 4, "scheduler.enabled": False}
    log = tmp_path / "workers.log"
    twilio.hold_answers_after(ANSWERED)

    kill_when_set(twilio.holding, start_worker(settings, log), log)  # mid-chunk
    held = list(twilio.held)
    twilio.release_answers()
    assert held and len(twilio.log) == ANSWERED + len(held) < MESSAGES
    at_twilio = {(m.to, m.body): m.sid for m in twilio.log}
    with database.connection_context():
        claimed = list(Message.select().where(Message.claimed_at.is_null(False)))
        # Sent (answered or held) but not stored: a chunk's outcomes are stored together, after its last answer.
        unrecorded = [at_twilio[(m.to_number, m.body)] for m in claimed if (m.to_number, m.body) in at_twilio]
        assert set(held) <= set(unrecorded) and len(claimed) > len(unrecorded)  # and some claimed were never sent
        # The dead worker's claims are taken over after STALE_CLAIM (the time a real restart waits): age them.
        for message in claimed:
            Message.update(claimed_at=message.claimed_at - STALE_CLAIM - dt.timedelta(seconds=1)).where(
                Message.id == message.id).execute()

    takers = [start_worker(settings, log) for _ in range(2)]
    try:
        assert wait_for(settled, 90), log.read_text()
    finally:
        for taker in takers:
            stop(taker)  # SIGTERM: each finishes its run and exits; nothing can be sent after this

    assert sorted((m.to, m.body) for m in twilio.log) == sorted(expected)  # each message exactly once
    with database.connection_context():
        stored = {m.provider_sid: m for m in Message.select()}
        assert set(stored) == {m.sid for m in twilio.log}
        assert all(m.state == "sending" for m in stored.values())
        lost = SendAttempt.select().where(SendAttempt.outcome == "lost").count()
        adopted = [(a.outcome, a.seq) for a in SendAttempt.select().where(SendAttempt.provider_sid.in_(unrecorded))]
    assert lost == len(claimed) - len(unrecorded)  # claimed, never sent: sent afresh by a taker
    assert adopted == [("sent", 0)] * len(unrecorded)  # at Twilio, never stored: adopted by a taker, not resent
