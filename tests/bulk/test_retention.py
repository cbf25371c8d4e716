"""R-52 for bulk sends: a send that is over goes with its recipient and skip lists 90 days after it ended; a
send still to run stays whatever its age; uploaded CSV files go with unconfirmed drafts (core.retention's
daily purge)."""
from __future__ import annotations

import datetime as dt
import os

import pytest

from core import clock as clock_module
from core.retention import purge_expired
from sms.bulk import runner, sends, uploads
from sms.bulk.models import BulkRecipient, BulkSend, BulkSkipped
from tests.bulk.conftest import numbers


def lists_of(send_id: int) -> tuple[int, int]:
    return (BulkRecipient.select().where(BulkRecipient.bulk_send == send_id).count(),
            BulkSkipped.select().where(BulkSkipped.bulk_send == send_id).count())


def test_sends_over_for_more_than_90_days_go_with_their_lists(app, clock, make_send):
    clock.set("2026-01-05 10:00")
    old = make_send([*numbers(3), "050-1234-5678"])  # the 050 number is skipped (IP phone)
    later = make_send(numbers(2, start=10), scheduled="2026-04-06T09:00")  # made now, runs in April
    runner.poll()
    assert BulkSend.get_by_id(old.id).status == "completed" and lists_of(old.id) == (3, 1)
    clock.set("2026-04-05 23:59")  # the day 90 days after the first send finished: kept
    assert purge_expired()["sms.bulk.sends"] == 0
    clock.set("2026-04-06 10:00")  # 91 days: the January send goes
    runner.poll()  # the April send runs
    counts = purge_expired()

    assert counts["sms.bulk.sends"] == 1
    assert BulkSend.get_or_none(BulkSend.id == old.id) is None and lists_of(old.id) == (0, 0)
    assert BulkSend.get_by_id(later.id).status == "completed" and lists_of(later.id) == (2, 0)


def test_a_scheduled_send_made_long_ago_stays_until_it_has_run(app, clock, make_send):
    clock.set("2026-01-05 10:00")
    waiting = make_send(numbers(2), scheduled="2026-12-01T09:00")
    cancelled = make_send(numbers(2, start=5), scheduled="2026-12-01T09:00")
    sends.cancel(cancelled.id, "tester")
    clock.set("2026-06-01 03:30")
    assert purge_expired()["sms.bulk.sends"] == 1
    assert BulkSend.get_by_id(waiting.id).status == "scheduled" and lists_of(waiting.id) == (2, 0)
    assert BulkSend.get_or_none(BulkSend.id == cancelled.id) is None


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(uploads, "DIRECTORY", tmp_path / "bulk_uploads")
    return tmp_path / "bulk_uploads"


def written_at(path, moment: str) -> None:
    stamp = dt.datetime.fromisoformat(moment).replace(tzinfo=clock_module.TOKYO).timestamp()
    os.utime(path, (stamp, stamp))


def test_uploaded_csv_files_go_with_unconfirmed_drafts(app, clock, upload_dir):
    assert app.config["SETTINGS"]["bulk.draft_days"] == 7
    clock.set("2026-01-15 10:00")
    stale, fresh = uploads.keep(b"090-1234-5678\n"), uploads.keep(b"090-1234-5679\n")
    written_at(upload_dir / f"{stale}.csv", "2026-01-08 09:59")
    written_at(upload_dir / f"{fresh}.csv", "2026-01-08 10:01")
    assert purge_expired()["sms.bulk.uploads"] == 1
    assert [path.name for path in upload_dir.iterdir()] == [f"{fresh}.csv"]
