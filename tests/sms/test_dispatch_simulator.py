"""The outbox with the simulator provider: rows first, dispatch, simulated receipts, resends, timeout,
opt-out at send time, tickets. The clock fixture drives every time-based step."""
import datetime as dt

import pytest

from core.db import write_transaction
from sms import links, tickets
from sms.models import Message, Receipt, SendAttempt
from sms.outbox import _claim_rows, claim_due, dispatch_now, run_dispatch
from sms.receipts import expire_stale
from sms.sending import queue_box, queue_text
from tests.support.threads import side_by_side


def settings(app, **changes):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**changes)


def send(text, to, **kw):
    result = queue_text(text, to, source="ui", **kw)
    assert result.ok, result.reason
    return result.message_id


def reload(message_id):
    return Message.get_by_id(message_id)


def test_a_message_is_a_queued_row_until_the_dispatcher_sends_it(app, clock, box):
    result = queue_box(7, "090-1234-5678", source="ui")
    message = reload(result.message_id)
    assert (message.state, message.status, message.due_at, message.provider_sid) == ("queued", 1, clock.now(), None)
    assert message.parts == 1 and message.body.startswith("ご予約ありがとうございます。詳細: http://localhost/s/")
    report = run_dispatch()
    assert report.sent == 1
    message = reload(result.message_id)
    assert (message.state, message.status, message.provider) == ("sending", 1, "simulator")
    assert message.provider_sid.startswith("SM") and message.due_at is None
    clock.advance(seconds=3)
    assert run_dispatch().receipts == 1
    message = reload(result.message_id)
    assert (message.state, message.status, message.error_message) == ("delivered", 2, "")
    assert message.final_at == clock.now()


def test_nothing_is_sent_before_it_is_due(app, clock):
    message_id = send("予約送信", "09012345678", due_at=clock.now().replace(hour=18))
    assert run_dispatch().sent == 0
    clock.set("2026-01-05 18:00")
    assert run_dispatch().sent == 1
    assert reload(message_id).state == "sending"


def test_failure_then_resend_shows_resend_wait_then_delivered(app, clock):
    message_id = send("再送テスト", "090-9999-0001")
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    waiting = reload(message_id)
    assert (waiting.state, waiting.status, waiting.state_label) == ("resend_wait", 1, "失敗再送")
    assert waiting.due_at == clock.now() + dt.timedelta(minutes=10)
    clock.advance(minutes=10)
    assert run_dispatch().sent == 1
    assert (reload(message_id).state, reload(message_id).resend_count) == ("sending", 1)
    clock.advance(seconds=3)
    run_dispatch()
    done = reload(message_id)
    assert (done.state, done.status, done.resend_count, done.error_message) == ("delivered", 2, 1, "")
    assert SendAttempt.select().where(SendAttempt.message == message_id).count() == 2


@pytest.mark.parametrize("number, message", [("090-9999-0005", "現在使われていない番号"),
                                             ("090-9999-0006", "キャリア違い（固定電話または SMS を受信できない回線）")])
def test_permanent_and_wrong_carrier_failures_are_final_without_resend(app, clock, number, message):
    message_id = send("失敗テスト", number)
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    failed = reload(message_id)
    assert (failed.state, failed.status, failed.error_message, failed.resend_count) == ("failed", 3, message, 0)
    clock.advance(hours=1)
    assert run_dispatch().sent == 0


def test_resends_used_up_end_in_failure_with_a_blank_message_for_unknown_carrier_errors(app, clock):
    settings(app, **{"sms.no_resend_window": ""})
    message_id = send("失敗テスト", "090-9999-0008")
    for _ in range(4):  # first send and three resends
        run_dispatch()
        clock.advance(seconds=3)
        run_dispatch()
        clock.advance(minutes=10)
    failed = reload(message_id)
    assert (failed.state, failed.status, failed.resend_count, failed.error_code, failed.error_message) == (
        "failed", 3, 3, 30008, "")
    assert SendAttempt.select().where(SendAttempt.message == message_id).count() == 4


def test_refused_at_send_time_by_the_provider(app, clock):
    message_id = send("拒否テスト", "090-9999-0610")
    report = run_dispatch()
    assert report.failed == 1
    failed = reload(message_id)
    assert (failed.state, failed.status, failed.error_code, failed.error_message) == (
        "failed", 3, 21610, "受信拒否（配信停止）された番号")


def test_no_receipt_for_72_hours_becomes_0_unknown(app, clock):
    message_id = send("結果なし", "090-9999-0000")
    run_dispatch()
    clock.advance(hours=71, minutes=59)
    assert expire_stale() == 0
    clock.advance(minutes=1)
    assert expire_stale() == 1
    unknown = reload(message_id)
    assert (unknown.state, unknown.status, unknown.state_label) == ("unknown", 0, "状態不明")


def test_timeout_follows_the_setting(app, clock):
    settings(app, **{"sms.status_timeout_hours": 1})
    message_id = send("結果なし", "090-9999-0000")
    run_dispatch()
    clock.advance(hours=1)
    assert expire_stale() == 1 and reload(message_id).status == 0


def test_opted_out_after_queueing_is_not_sent(app, clock):
    message_id = send("お知らせ", "09012345678")
    links.opt_out("+819012345678", via="admin")
    assert run_dispatch().sent == 0
    refused = reload(message_id)
    assert (refused.state, refused.status, refused.error_message, refused.provider_sid) == (
        "failed", 3, "配信停止済み", None)


def test_opted_out_number_is_refused_when_queued(app):
    links.opt_out("+819012345678")
    result = queue_text("お知らせ", "090-1234-5678", source="api")
    assert (result.ok, result.code) == (False, "opted_out")
    assert reload(result.message_id).error_message == "配信停止済み"


def test_tickets_each_sms_uses_one_when_enabled(app):
    settings(app, **{"sms.tickets_enabled": True})
    tickets.add(1, "購入", actor="admin")
    first = queue_text("チケット", "09012345678", source="ivr")
    second = queue_text("チケット", "09012345679", source="ivr")
    assert first.ok and tickets.balance() == 0
    assert (second.ok, second.code) == (False, "no_ticket")
    logged = reload(second.message_id)
    assert (logged.state, logged.status, logged.error_message) == ("failed", 3, "チケット不足")
    assert [e.delta for e in tickets.entries()] == [-1, 1]


def test_tickets_are_not_used_when_disabled(app):
    tickets.add(5)
    assert queue_text("無料", "09012345678", source="api").ok
    assert tickets.balance() == 5


def test_dispatch_now_sends_one_message_at_once_and_only_once(app, clock):
    message_id = send("テスト送信", "09012345678")
    other = send("別の SMS", "09012345679")
    dispatch_now(message_id)
    dispatch_now(message_id)
    assert reload(message_id).state == "sending" and reload(other).state == "queued"
    assert SendAttempt.select().where(SendAttempt.message == message_id).count() == 1


def test_receipts_are_kept_even_when_ignored(app, clock):
    message_id = send("記録", "09012345678")
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    from sms.receipts import record_receipt

    sid = reload(message_id).provider_sid
    record_receipt(sid, "sent", None)
    notes = [(r.provider_status, r.applied) for r in Receipt.select().order_by(Receipt.id)]
    assert notes == [("delivered", True), ("sent", False)]
    assert reload(message_id).state == "delivered"


def test_two_dispatchers_at_once_claim_each_row_exactly_once(app, clock):
    """SKIP LOCKED on PostgreSQL, BEGIN IMMEDIATE on SQLite: concurrent claimers never share a row."""
    ids = [send(f"同時 {i}", f"090-1234-{i:04d}") for i in range(40)]

    def claim_all(name):
        mine = []
        while batch := claim_due(3, worker=name):
            mine += [item.message_id for item in batch]
        return mine

    claimed = side_by_side(app, ("A", "B"), claim_all)
    assert sorted(claimed["A"] + claimed["B"]) == ids
    assert SendAttempt.select().count() == 40


def test_a_row_claimed_meanwhile_is_not_claimed_again(app, clock):
    message_id = send("一度だけ", "090-1234-5678")
    seen_before = reload(message_id)
    assert len(claim_due(10, worker="A")) == 1
    with write_transaction():
        assert _claim_rows([seen_before], clock.now(), "B") == []
    assert (reload(message_id).claimed_by, SendAttempt.select().count()) == ("A", 1)
