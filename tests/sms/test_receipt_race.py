"""A delivery receipt that arrives while the dispatcher is recording that very send (Twilio calls back before the
dispatcher's transaction has committed the sid). Without care, on PostgreSQL the receipt finds no send (not
committed yet) and is stored as unknown just after the dispatcher looked for early receipts: applied by no one.
The receipt waits for the dispatcher's transaction instead (core.db.lock_keys), then finds the send; on SQLite
the single writer already makes it wait."""
import sys
import threading
import time

import pytest

from core.channels import SendOutcome
from core.db import database, is_postgres
from sms import outbox
from sms.models import Message, Receipt, SendAttempt
from sms.outbox import DispatchReport, claim_due, record_outcomes, record_sent
from sms.receipts import SID_LOCKS, record_receipt
from sms.sending import queue_text

SID = "SM" + "a" * 32


class Twilio:
    """The provider as recording a send needs it: its name."""
    name = "twilio"


class RacingReceipt:
    """The receipt of SID posted from another thread (its own connection) while the dispatcher records the send;
    the dispatcher goes on once the receipt has finished or waits."""

    def __init__(self, app):
        self.app, self.stored, self.backend = app, [], None
        self.thread = threading.Thread(target=self.post)
        self.asked = threading.Event()

    def post(self):
        with self.app.app_context(), database.connection_context():
            if is_postgres():
                self.backend = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
            self.asked.set()
            self.stored.append(record_receipt(SID, "delivered", None))

    def start_and_wait(self):
        self.thread.start()
        assert self.asked.wait(60)
        deadline = time.monotonic() + 60
        while self.thread.is_alive() and not self.waiting():
            assert time.monotonic() < deadline, "the receipt neither finished nor waited"
            time.sleep(0.01)

    def waiting(self) -> bool:
        """PostgreSQL: the receipt's connection waits for an advisory lock of the sids; SQLite: its thread waits in
        write_transaction for the writer."""
        if is_postgres():
            return database.execute_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND pid = %s "
                "AND classid = %s", [self.backend, SID_LOCKS]).fetchone()[0] > 0
        frame = sys._current_frames().get(self.thread.ident)
        while frame is not None:
            if frame.f_code.co_name == "write_transaction":
                return True
            frame = frame.f_back
        return False

    def finished(self) -> Receipt:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the receipt still waits after the dispatcher committed"
        [stored] = self.stored
        return Receipt.get_by_id(stored.id)


@pytest.fixture
def racing(app, monkeypatch):
    """The receipt posted inside the dispatcher's transaction, after it looked for early receipts and before it
    writes the sids (on PostgreSQL the write goes with the COMMIT)."""
    receipt = RacingReceipt(app)
    store = outbox._store_sent_many

    def race_then_store(*args, **kwargs):
        receipt.start_and_wait()
        store(*args, **kwargs)

    monkeypatch.setattr(outbox, "_store_sent_many", race_then_store)
    return receipt


def claimed_message():
    message_id = queue_text("お知らせです。", "090-1234-5678", source="api").message_id
    [claimed] = claim_due(10, worker="dispatcher")
    return message_id, claimed


def assert_applied(message_id: int, receipt: Receipt) -> None:
    assert (receipt.message_id, receipt.applied, receipt.note) == (message_id, True, "")
    message = Message.get_by_id(message_id)
    assert (message.state, message.status) == ("delivered", 2)
    assert SendAttempt.get(SendAttempt.message == message_id).provider_status == "delivered"


def test_a_receipt_during_the_recording_of_a_chunk_is_applied(app, racing):
    message_id, claimed = claimed_message()
    record_outcomes([(claimed.message, claimed.attempt)], [SendOutcome(SID, "queued")], Twilio(), DispatchReport())
    assert_applied(message_id, racing.finished())


def test_a_receipt_during_the_recording_of_a_reconciled_send_is_applied(app, racing):
    message_id, claimed = claimed_message()
    record_sent(claimed.message, claimed.attempt, SID, "queued", Twilio())
    assert_applied(message_id, racing.finished())
