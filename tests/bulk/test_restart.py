"""A worker process killed in the middle of a bulk send and started again: nobody gets a message twice (R-47).

Real processes (run.py's scheduler service), the real twilio client, and the local Twilio server's log as the judge.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest

from core.config import ROOT
from sms.bulk.models import BulkSend
from sms.models import Message
from tests.bulk.conftest import e164, numbers
from tests.conftest import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN
from tests.support.fake_twilio import FakeTwilio

RECIPIENTS = 20
MESSAGES = ["一括配信の一通目です。", "一括配信の二通目です。"]


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


# `python run.py worker` without its first-start seeding (the demo flow's speech synthesis takes ~10 s and has
# nothing to do with sending): the same app, the same scheduler service and jobs of every feature package.
WORKER = "import run; app = run.build_app(); service = run.start_scheduler(app); run.wait_for_signal(); service.shutdown()"


def start_worker(env: dict, log_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=open(log_path, "a"),
                            stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def kill_when_set(event, proc: subprocess.Popen, log_path, timeout: float = 90) -> None:
    """Wait until `event` is set (the process is in the middle of its work), then SIGKILL it: no clean-up of any
    kind. Fails with the process's log when the event never comes."""
    try:
        assert event.wait(timeout), log_path.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        stop(proc)


def all_handed_over(send_id: int) -> bool:
    from core.db import database

    with database.connection_context():
        send = BulkSend.get_by_id(send_id)
        waiting = Message.select().where((Message.bulk_send_id == send_id) & Message.due_at.is_null(False)).count()
        return send.status == "completed" and waiting == 0


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_worker_killed_mid_send_and_restarted_sends_each_message_once(app, database_url, make_send, tmp_path):
    """SQLite only: the test takes ~15 s of real time; PostgreSQL's concurrent claims are covered in-process."""
    twilio = FakeTwilio(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN).start()  # real time: the workers run on the real clock
    try:
        people = numbers(RECIPIENTS)
        send = make_send(people, MESSAGES)
        env = {**os.environ, "DATABASE_URL": database_url, "TELEPHONY_PROVIDER": "twilio",
               "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
               "TWILIO_FROM_NUMBER": "+815011112222", "TWILIO_API_BASE_URL": twilio.url,
               "PUBLIC_BASE_URL": "http://127.0.0.1:9", "SECRET_KEY": "restart-test",
               "IVR_SCHEDULER__LEASE_SECONDS": "5", "IVR_SMS__MPS_LIMIT": "20", "IVR_SMS__DISPATCH_INTERVAL_SECONDS": "1",
               "IVR_BULK__POLL_SECONDS": "1", "IVR_BULK__BATCH_SIZE": "4",
               "PYTHONUNBUFFERED": "1"}
        log = tmp_path / "worker.log"

        first = start_worker(env, log)
        try:
            assert wait_for(lambda: len(twilio.log) >= 8, 90), log.read_text()
            first.send_signal(signal.SIGKILL)  # mid-send: no clean-up of any kind
            first.wait(timeout=10)
        finally:
            stop(first)
        sent_before_kill = len(twilio.log)
        assert sent_before_kill < RECIPIENTS * len(MESSAGES), "the send finished before the kill; nothing to resume"

        # The dead worker's claims are only taken over after sms.outbox.STALE_CLAIM (the time a real restart
        # waits); age them as if the process had stayed down that long.
        from sms.outbox import STALE_CLAIM

        for message in Message.select().where(Message.claimed_at.is_null(False)):
            Message.update(claimed_at=message.claimed_at - STALE_CLAIM - dt.timedelta(seconds=1)).where(
                Message.id == message.id).execute()

        second = start_worker(env, log)
        try:
            assert wait_for(lambda: all_handed_over(send.id), 90), log.read_text()
            time.sleep(1.5)  # room for a double send to show up

        finally:
            stop(second)

        sent = sorted((m.to, m.body) for m in twilio.log)
        expected = sorted((e164(person), body) for person in people for body in MESSAGES)
        assert sent == expected  # every number got each message exactly once
        assert len(twilio.log) > sent_before_kill
    finally:
        twilio.stop()
