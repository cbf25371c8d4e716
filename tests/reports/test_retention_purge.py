"""R-52 on the database: day 91 deleted with everything hanging off it, day 90 kept, in batches; every
package's targets run from the one daily job (core.retention)."""
import datetime as dt

import pytest

from core import retention
from core.retention import PURGE_JOB, purge_expired
from core.scheduler import JobRegistry
from ivr.models import Call, CallEvent
from reports.aggregate import publish
from reports.models import CallPath, DailyStat
from sms.models import Message, Receipt, SendAttempt, ShortLink

TODAY = dt.date(2026, 5, 1)
DAY_90 = TODAY - dt.timedelta(days=90)
DAY_91 = TODAY - dt.timedelta(days=91)


@pytest.fixture
def app_config(app_config):
    return {**app_config, "reports.purge_batch": 100}


def at(day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm, ss))


def test_day_91_is_deleted_and_day_90_kept(clock, make_call, make_message):
    clock.set(at(TODAY, 3, 30))
    old = make_call(at(DAY_91, 23, 59, 59), events=[("node", "main", "受付", ""), ("digit", "main", "受付", "1")])
    kept = make_call(at(DAY_90, 0, 0), events=[("node", "main", "受付", "")])
    old_sms = make_message(at(DAY_91, 12), call=old, clicks=1)
    kept_sms = make_message(at(DAY_90, 0, 0, 1))
    for message in (old_sms, kept_sms):
        ShortLink.create(code=f"c{message.id}", message=message, target_url="https://example.jp/", clicks=1)
        SendAttempt.create(message=message, provider_sid=f"SM{message.id:032d}")
        Receipt.create(provider_sid=f"SM{message.id:032d}", provider_status="delivered", message=message)
    publish(DAY_91, DAY_90)
    assert {path.call_id for path in CallPath.select()} == {old.id, kept.id}

    counts = purge_expired()

    assert list(Call.select()) == [kept]
    assert CallEvent.select().where(CallEvent.call == old.id).count() == 0
    assert CallEvent.select().where(CallEvent.call == kept.id).count() == 1
    assert [m.id for m in Message.select()] == [kept_sms.id]
    assert [link.message_id for link in ShortLink.select()] == [kept_sms.id]
    assert SendAttempt.select().count() == Receipt.select().count() == 1
    assert {row.day for row in DailyStat.select()} == {DAY_90}
    assert [path.call_id for path in CallPath.select()] == [kept.id]  # a stored path goes with its call
    assert counts["ivr.calls"] == 1 and counts["sms.messages"] == 1 and counts["reports.aggregates"] == 2  # day 91's figures, and its hour
    assert purge_expired()["ivr.calls"] == 0  # nothing left to do the second time


def test_many_rows_go_in_batches(clock, db, make_call):
    clock.set(at(TODAY, 3, 30))
    rows = [{"call_sid": f"CAold{n:028d}", "from_number": "+819012345678", "to_number": "+815000000000",
             "started_at": at(DAY_91, 10) - dt.timedelta(minutes=n), "outcome": "completed"} for n in range(250)]
    with db.atomic():
        Call.insert_many(rows).execute()
    old_ids = [c.id for c in Call.select(Call.id)]
    CallEvent.insert_many([{"call": cid, "at": at(DAY_91, 10), "kind": "node", "node_key": "main"}
                           for cid in old_ids]).execute()
    make_call(at(TODAY, 1))

    deletes = []
    original = Call.delete

    def spying_delete(*args, **kwargs):
        deletes.append(1)
        return original(*args, **kwargs)

    Call.delete = spying_delete
    try:
        assert purge_expired()["ivr.calls"] == 250
    finally:
        Call.delete = original
    assert len(deletes) == 3  # 100 + 100 + 50, each in its own transaction
    assert Call.select().count() == 1 and CallEvent.select().count() == 0


def test_kept_rows_between_expired_ones_stay_with_their_events(clock, db):
    """Batches are ranges of keys: a call inside a range that is not expired (a clock set back, a call whose
    recording Twilio still has) is neither deleted nor stops the batches after it."""
    clock.set(at(TODAY, 3, 30))
    rows = [{"call_sid": f"CAmix{n:028d}", "from_number": "+819012345678", "to_number": "+815000000000",
             "started_at": at(DAY_91, 10) if n % 3 else at(DAY_90, 10), "outcome": "completed"} for n in range(250)]
    with db.atomic():
        Call.insert_many(rows).execute()
    CallEvent.insert_many([{"call": cid, "at": at(DAY_91, 10), "kind": "node", "node_key": "main"}
                           for (cid,) in Call.select(Call.id).tuples()]).execute()
    kept = [cid for (cid,) in Call.select(Call.id).where(Call.started_at >= at(DAY_90, 0)).tuples()]

    assert purge_expired()["ivr.calls"] == 250 - len(kept)

    assert sorted(cid for (cid,) in Call.select(Call.id).tuples()) == sorted(kept)
    assert sorted(e.call_id for e in CallEvent.select()) == sorted(kept)


def test_purge_job_is_registered_daily_and_catches_up(app):
    registry = JobRegistry()
    retention.register_jobs(registry, app)
    job = registry.jobs[PURGE_JOB]
    assert job.run_at_start
    assert (str(job.trigger.fields[5]), str(job.trigger.fields[6])) == ("3", "30")


def test_page_says_deleted_data_cannot_be_restored(manager_client):
    html = manager_client.get("/reports/").get_data(as_text=True)
    assert "90日間を超えたデータは自動的に削除され、<strong>復元はできません</strong>" in html
    assert "着信・SMS送信レポートをダウンロード" in html


def test_sqlite_batches_are_smaller_because_each_holds_the_one_write_lock(db):
    from core.db import is_sqlite
    from core.retention import SQLITE_BATCH_ROWS, Expiry, batch_rows

    expiry = Expiry(at(DAY_90, 0), 1000)
    assert batch_rows(expiry) == (SQLITE_BATCH_ROWS if is_sqlite() else 1000)
    assert batch_rows(Expiry(at(DAY_90, 0), 100)) == 100  # a smaller setting is kept everywhere
