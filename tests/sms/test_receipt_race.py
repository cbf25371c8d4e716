"""A delivery receipt that arrives while the dispatcher is recording that very send (Twilio calls back before the
dispatcher's transaction has committed the sid). Without care, on PostgreSQL the receipt finds no send (not
committed yet) and is stored as unknown just after the dispatcher looked for early receipts: applied by no one.
The receipt waits for the dispatcher's transaction instead (core.db.lock_keys), then finds the send; on SQLite
the single writer already makes it wait."""
import sys
import threading
import time

from core import clock
from core.channels import SendOutcome
from core.db import database, is_postgres, lock_keys, write_transaction
from sms.models import Message, Receipt, SendAttempt
from sms.outbox import _store_sent_many, claim_due
from sms.receipts import SID_LOCKS, record_receipt
from sms.sending import queue_text

SID = "SM" + "a" * 32


class Twilio:
    """The provider as _store_sent_many needs it: its name."""
    name = "twilio"


def waiting_for_the_dispatcher(thread: threading.Thread) -> bool:
    """The receipt's thread is held: PostgreSQL shows its advisory lock not granted; on SQLite it waits in
    write_transaction for the writer."""
    if is_postgres():
        return database.execute_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").fetchone()[0] > 0
    frame = sys._current_frames().get(thread.ident)
    while frame is not None:
        if frame.f_code.co_name == "write_transaction":
            return True
        frame = frame.f_back
    return False


def test_a_receipt_during_the_recording_of_its_send_is_applied(app):
    message_id = queue_text("お知らせです。", "090-1234-5678", source="api").message_id
    [claimed] = claim_due(10, worker="dispatcher")
    applied: list[Receipt] = []

    def receipt_arrives():
        with app.app_context(), database.connection_context():
            applied.append(record_receipt(SID, "delivered", None))

    receipt = threading.Thread(target=receipt_arrives)
    with write_transaction():  # what record_outcomes does for an accepted chunk
        lock_keys(SID_LOCKS, [SID])
        assert not Receipt.select().where(Receipt.message.is_null()).exists()  # no early receipt yet
        _store_sent_many([(claimed.message, claimed.attempt, SendOutcome(SID, "queued"))], Twilio(), clock.now())
        receipt.start()
        deadline = time.monotonic() + 60
        while receipt.is_alive() and not waiting_for_the_dispatcher(receipt):
            assert time.monotonic() < deadline, "the receipt neither finished nor waited"
            time.sleep(0.01)
    receipt.join(60)
    [stored] = applied
    stored = Receipt.get_by_id(stored.id)
    assert (stored.message_id, stored.applied, stored.note) == (message_id, True, "")
    message = Message.get_by_id(message_id)
    assert (message.state, message.status) == ("delivered", 2)
    assert SendAttempt.get(SendAttempt.message == message_id).provider_status == "delivered"

