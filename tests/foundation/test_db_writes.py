"""core.db.write_transaction: SQLite writers of one process take turns on a lock; a write transaction opened
inside one this thread already has is a savepoint and takes no lock (no stall behind a thread waiting for it)."""
import threading
import time

import pytest

from core.db import database, write_transaction
from core.models import AuditLog

pytestmark = pytest.mark.sqlite_only


def test_a_nested_write_transaction_does_not_wait_for_a_thread_queued_behind_it(app):
    wrote, queued, done = threading.Event(), threading.Event(), {}

    def writer_with_nested_transaction():
        with app.app_context():
            try:
                with database.atomic():
                    AuditLog.create(actor="b", action="outer")  # this thread now holds SQLite's write lock
                    wrote.set()
                    queued.wait(5)
                    time.sleep(0.2)  # the main thread is inside write_transaction, waiting for SQLite
                    with write_transaction():
                        AuditLog.create(actor="b", action="nested")
                done["b"] = "ok"
            except Exception as exc:  # reported to the test below
                done["b"] = repr(exc)
            finally:
                database.close()

    other = threading.Thread(target=writer_with_nested_transaction)
    other.start()
    assert wrote.wait(5)
    queued.set()
    started = time.perf_counter()
    with write_transaction():
        AuditLog.create(actor="a", action="queued")
    waited = time.perf_counter() - started
    other.join(15)
    assert done == {"b": "ok"}
    assert waited < 3  # not the 10 s busy timeout
    assert sorted(AuditLog.select(AuditLog.action).tuples()) == [("nested",), ("outer",), ("queued",)]


def test_threads_of_one_process_write_in_turn_without_locked_errors(app):
    errors = []

    def writer(name):
        with app.app_context():
            try:
                for n in range(25):
                    with write_transaction():
                        AuditLog.select().count()
                        AuditLog.create(actor=name, action=f"write {n}")
            except Exception as exc:  # reported to the test below
                errors.append(repr(exc))
            finally:
                database.close()

    threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert AuditLog.select().count() == 100
