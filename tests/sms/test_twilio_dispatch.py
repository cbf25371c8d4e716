"""Dispatch through the real twilio client against the local Twilio-compatible server: what Twilio
receives, first statuses, transient and permanent errors, seed 000's resend example, and the crash
between claim and recording the provider id (no duplicate, no loss — checked on the server's own log)."""
import datetime as dt

import pytest

from sms.models import Message, SendAttempt
from sms.outbox import claim_due, run_dispatch
from sms.providers import TwilioProvider
from sms.sending import queue_text
from tests.sms.conftest import post_callback, twilio_config

TO = "+819012345678"


@pytest.fixture
def app_config(app_config, twilio_server):
    return twilio_config(app_config, twilio_server)


def queue(text="お知らせです。", to="090-1234-5678", **kw):
    result = queue_text(text, to, source="api", **kw)
    assert result.ok, result.reason
    return result.message_id


def test_twilio_receives_to_from_body_and_the_status_callback(app, twilio_server):
    message_id = queue("ご来店ありがとうございました。")
    assert run_dispatch().sent == 1
    [sent] = twilio_server.sent_to(TO)
    assert (sent.from_, sent.body, sent.status_callback) == (
        "+815012340000", "ご来店ありがとうございました。", "http://localhost/twilio/sms/status")
    message = Message.get_by_id(message_id)
    assert (message.provider, message.provider_sid, message.state, message.status) == ("twilio", sent.sid, "sending", 1)
    attempt = SendAttempt.get(SendAttempt.message == message_id)
    assert (attempt.outcome, attempt.provider_status) == ("sent", "queued")


def test_signed_callbacks_move_the_status(app, client, twilio_server):
    message_id = queue()
    run_dispatch()
    sid = Message.get_by_id(message_id).provider_sid
    assert post_callback(client, twilio_server, sid, "sent").status_code == 204
    assert post_callback(client, twilio_server, sid, "delivered").status_code == 204
    assert Message.get_by_id(message_id).status == 2


def test_forged_callback_is_refused_with_403(app, client, twilio_server):
    message_id = queue()
    run_dispatch()
    sid = Message.get_by_id(message_id).provider_sid
    forged = post_callback(client, twilio_server, sid, "delivered", signature="bm90IGEgc2lnbmF0dXJl")
    unsigned = client.post("/twilio/sms/status", data={"MessageSid": sid, "MessageStatus": "delivered"}, csrf=False)
    assert (forged.status_code, unsigned.status_code) == (403, 403)
    assert Message.get_by_id(message_id).status == 1


@pytest.mark.parametrize("http_status, code", [(503, None), (429, 20429), (500, None)])
def test_transient_errors_are_retried_with_backoff(app, clock, twilio_server, http_status, code):
    message_id = queue()
    twilio_server.fail(TO, http_status=http_status, code=code, times=2)
    assert run_dispatch().retried == 1
    waiting = Message.get_by_id(message_id)
    assert (waiting.state, waiting.send_failures, waiting.due_at) == ("queued", 1, clock.now() + dt.timedelta(seconds=15))
    assert run_dispatch().handled == 0  # not due yet
    clock.advance(seconds=15)
    assert run_dispatch().retried == 1
    clock.advance(seconds=30)
    assert run_dispatch().sent == 1
    assert len(twilio_server.sent_to(TO)) == 1
    assert Message.get_by_id(message_id).send_failures == 0


def test_network_errors_are_retried(app, clock, twilio_server):
    message_id = queue()
    twilio_server.stop()
    assert run_dispatch().retried == 1
    assert Message.get_by_id(message_id).state == "queued"


@pytest.mark.parametrize("code, text", [(21211, "電話番号が正しくありません"), (21614, "携帯電話番号ではありません"),
                                        (21610, "受信拒否（配信停止）された番号")])
def test_permanent_errors_fail_at_once(app, clock, twilio_server, code, text):
    message_id = queue()
    twilio_server.fail(TO, http_status=400, code=code, times=None)
    assert run_dispatch().failed == 1
    failed = Message.get_by_id(message_id)
    assert (failed.state, failed.status, failed.error_code, failed.error_message, failed.due_at) == (
        "failed", 3, code, text, None)
    clock.advance(hours=1)
    assert run_dispatch().handled == 0
    assert twilio_server.sent_to(TO) == []


def test_seed_000_resend_example_on_the_clock(app, client, clock, twilio_server):
    """3 resends, 10 min apart, no resends 21:00-09:00: the 2nd resend at 20:55 fails → the 3rd would be
    21:05, inside the window → status 3 at 21:05 and no 3rd send."""
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{
        "sms.resend_count": 3, "sms.resend_interval_minutes": 10, "sms.no_resend_window": "21:00-09:00"})
    clock.set("2026-01-05 20:35")
    message_id = queue()
    api_view = []
    for moment in ("20:35", "20:45", "20:55"):
        clock.set(f"2026-01-05 {moment}")
        assert run_dispatch().sent == 1
        sid = Message.get_by_id(message_id).provider_sid
        post_callback(client, twilio_server, sid, "sent")
        post_callback(client, twilio_server, sid, "undelivered", 30003)
        waiting = Message.get_by_id(message_id)
        api_view.append((waiting.state, waiting.status))
    assert api_view == [("resend_wait", 1)] * 3
    assert Message.get_by_id(message_id).due_at == dt.datetime(2026, 1, 5, 21, 5)
    clock.set("2026-01-05 21:04:59")
    run_dispatch()
    assert Message.get_by_id(message_id).status == 1
    clock.set("2026-01-05 21:05")
    run_dispatch()
    final = Message.get_by_id(message_id)
    assert (final.state, final.status, final.resend_count, final.final_at) == (
        "failed", 3, 2, dt.datetime(2026, 1, 5, 21, 5))
    assert final.error_message == "端末の電源が入っていないか、圏外です"
    assert [m.date_created.strftime("%H:%M") for m in twilio_server.sent_to(TO)] == ["11:35", "11:45", "11:55"]


def test_crash_after_twilio_accepted_is_reconciled_without_sending_twice(app, clock, twilio_server):
    message_id = queue()
    claim_due(10, worker="worker-that-dies")
    TwilioProvider().send(TO, Message.get_by_id(message_id).body)  # accepted, then the process dies
    assert len(twilio_server.sent_to(TO)) == 1
    assert run_dispatch(worker="restarted").handled == 0  # the dead worker's claim is not stale yet
    clock.advance(minutes=2, seconds=1)
    report = run_dispatch(worker="restarted")
    assert (report.reconciled, report.sent) == (1, 0)
    [only] = twilio_server.sent_to(TO)
    message = Message.get_by_id(message_id)
    assert (message.provider_sid, message.state) == (only.sid, "sending")
    assert ("GET", f"/2010-04-01/Accounts/{twilio_server.account_sid}/Messages.json") in twilio_server.requests


def test_crash_before_twilio_was_called_sends_once_after_restart(app, clock, twilio_server):
    message_id = queue()
    claim_due(10, worker="worker-that-dies")  # dies before calling Twilio
    clock.advance(minutes=3)
    report = run_dispatch(worker="restarted")
    assert (report.reconciled, report.sent) == (0, 1)
    [only] = twilio_server.sent_to(TO)
    assert Message.get_by_id(message_id).provider_sid == only.sid
    outcomes = [a.outcome for a in SendAttempt.select().where(SendAttempt.message == message_id).order_by(SendAttempt.seq)]
    assert outcomes == ["lost", "sent"]


def test_reconcile_ignores_an_identical_message_already_recorded(app, clock, twilio_server):
    earlier = queue("同じ本文")
    run_dispatch()
    later = queue("同じ本文")
    claim_due(10, worker="worker-that-dies")
    clock.advance(minutes=3)
    assert run_dispatch(worker="restarted").sent == 1
    sids = [m.sid for m in twilio_server.sent_to(TO)]
    assert len(sids) == 2
    assert {Message.get_by_id(earlier).provider_sid, Message.get_by_id(later).provider_sid} == set(sids)


def test_callback_arriving_before_the_sid_is_recorded_is_replayed(app, client, clock, twilio_server):
    message_id = queue()
    claim_due(10, worker="slow-worker")
    sid = TwilioProvider().send(TO, Message.get_by_id(message_id).body).sid
    assert post_callback(client, twilio_server, sid, "delivered").status_code == 204
    clock.advance(minutes=3)
    run_dispatch(worker="restarted")
    assert Message.get_by_id(message_id).status == 2


def test_a_malformed_error_code_in_a_signed_callback_is_kept_as_unknown(app, client, twilio_server):
    message_id = queue()
    run_dispatch()
    sid = Message.get_by_id(message_id).provider_sid
    params = {**twilio_server.callback_params(sid, "failed"), "ErrorCode": "99999999999999"}
    signature = twilio_server.signature("http://localhost/twilio/sms/status", params)
    response = client.post("/twilio/sms/status", data=params, headers={"X-Twilio-Signature": signature}, csrf=False)
    assert response.status_code == 204
    failed = Message.get_by_id(message_id)
    assert (failed.state, failed.error_code, failed.error_message) == ("resend_wait", None, "")
