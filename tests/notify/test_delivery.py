"""Notifications end to end: events announced by the packages that know them (a voicemail through the signed voice
webhooks, an abandoned call, a failed SMS receipt, a finished bulk send, the report refresh) reach a local HTTP
server standing in for Slack, Teams, Chatwork and a CRM (signature verified) and a real SMTP server (aiosmtpd);
failures are retried with backoff and a destination that keeps failing is paused; quiet hours hold them."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core import events
from core.db import database
from ivr.store import save_flow
from notify.models import Delivery, Destination, Event
from notify.outbox import run_deliveries
from tests.conftest import free_port
from tests.ivr.builders import menu_flow, node, spec
from tests.ivr.conftest import box, guidance, made_once, shared_audio_dir  # noqa: F401  (fixtures: audio made once)
from tests.ivr.phone import Phone
from tests.notify.conftest import Mailbox

FLOW_NUMBER = "+815011112222"
CALLER = "+819012345678"
RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "1" * 32 + "/Recordings/RE" + "2" * 32


@pytest.fixture
def app_config(app_config, shared_audio_dir):  # noqa: F811
    return {**app_config, "guidance.audio_dir": str(shared_audio_dir), "notify.max_attempts": 3, "notify.pause_after_failures": 4,
            "notify.smtp_host": "127.0.0.1", "notify.smtp_starttls": False, "notify.mail_from": "ivr@example.jp"}


def voicemail_flow():
    return save_flow(spec("vm", node("vm", "voicemail", name="営業時間外の録音", params={"max_seconds": 60})),
                     name="代表番号", number=FLOW_NUMBER)


def verify(received, secret: str) -> bool:
    """What a CRM does with X-IVR-Signature."""
    timestamp = received.headers["X-IVR-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + received.body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.headers["X-IVR-Signature"])


def test_a_voicemail_reaches_chat_and_crm_and_the_crm_verifies_the_signature(client, receiver, make_destination):
    voicemail_flow()
    crm = make_destination("webhook", receiver.url + "/crm", events=events.VOICEMAIL_LEFT, secret="crm-key")
    make_destination("slack", receiver.url + "/slack", events=events.VOICEMAIL_LEFT)
    make_destination("teams", receiver.url + "/teams", events=events.VOICEMAIL_LEFT)
    make_destination("chatwork", receiver.url + "/v2/rooms/42/messages", events=events.VOICEMAIL_LEFT,
                     secret="cw-token")
    make_destination("slack", receiver.url + "/other", events=events.SMS_FAILED)  # wants something else

    call = Phone(client).dial(FLOW_NUMBER, caller=CALLER)
    call.recorded(RECORDING, 7)
    assert receiver.requests == []  # nothing is sent on the webhook's path
    assert Delivery.select().count() == 4

    report = run_deliveries()
    assert report.sent == 4
    by_path = {r.path: r for r in receiver.requests}
    assert set(by_path) == {"/crm", "/slack", "/teams", "/v2/rooms/42/messages"}

    crm_request = by_path["/crm"]
    assert verify(crm_request, "crm-key") and not verify(crm_request, "another-key")
    body = crm_request.json()
    assert body["event"] == "voicemail.left" and body["event_label"] == "留守番電話の録音"
    assert body["data"]["from_number"] == CALLER and body["data"]["seconds"] == 7
    assert body["data"]["flow_name"] == "代表番号" and body["data"]["call_sid"] == call.sid
    assert body["link"] == "http://localhost/ivr/voicemails"
    assert crm_request.headers["X-IVR-Event"] == "voicemail.left"
    assert crm_request.headers["X-IVR-Delivery"] == str(body["delivery_id"])
    assert body["occurred_at"].startswith("2026-01-05T10:00:00+09:00")

    assert "090-1234-5678 から留守番電話が届きました（7 秒）" in by_path["/slack"].json()["text"]
    teams = by_path["/teams"].json()
    assert teams["@type"] == "MessageCard" and "留守番電話" in teams["title"]
    chatwork = by_path["/v2/rooms/42/messages"]
    assert chatwork.headers["X-ChatWorkToken"] == "cw-token"
    from urllib.parse import parse_qs

    assert "[info][title]【留守番電話の録音】" in parse_qs(chatwork.body.decode())["body"][0]
    assert {d.state for d in Delivery.select()} == {"sent"}
    assert crm.consecutive_failures == 0


def test_an_abandoned_call_is_announced_with_where_the_caller_hung_up(client, receiver, make_destination,
                                                                     guidance, box):  # noqa: F811
    save_flow(menu_flow(guidance), name="代表番号", number=FLOW_NUMBER)
    make_destination("webhook", receiver.url, events=events.CALL_ABANDONED)
    call = Phone(client).dial(FLOW_NUMBER, caller=CALLER)
    call.hang_up(seconds=4)
    call.hang_up(seconds=4)  # Twilio's retry of the status callback: one event
    run_deliveries()
    [received] = receiver.requests
    data = received.json()["data"]
    assert received.json()["event"] == "call.abandoned"
    assert data["from_number"] == CALLER and data["where"] == "メインメニュー（メニューの案内: テスト_menu）"  # node, part, guidance (ivr.timeline)
    assert "切断した場所: メインメニュー" in received.json()["text"]


def test_events_of_sms_bulk_and_report_are_announced(app, receiver, make_destination, clock):
    from reports.jobs import refresh_reports
    from sms.models import Message
    from sms.receipts import store_decision
    from sms.statuses import Decision

    make_destination("webhook", receiver.url)
    now = clock.now()
    alone = Message.create(to_number="+819011112222", body="本文", parts=1, state="sending", status=1,
                           created_at=now, updated_at=now, box_number=1)
    of_bulk = Message.create(to_number="+819011113333", body="本文", parts=1, state="sending", status=1,
                             created_at=now, updated_at=now, bulk_send_id=5)
    failed = Decision("failed", 3, 30005, "現在使われていない番号")
    assert store_decision(alone, failed) and store_decision(of_bulk, failed)
    assert not store_decision(alone, failed)  # the same change again: nothing more
    clock.set("2026-01-07 13:05")
    refresh_reports()
    run_deliveries()
    kinds = [r.json()["event"] for r in receiver.requests]
    assert kinds == ["sms.failed", "report.published"]  # a bulk send's messages are told by the send's end
    assert receiver.requests[0].json()["data"]["to_number"] == "+819011112222"
    assert receiver.requests[0].json()["data"]["error_message"] == "現在使われていない番号"
    assert receiver.requests[1].json()["data"]["cutoff"] == "2026-01-05"


def test_a_finished_bulk_send_is_announced(app, receiver, make_destination, clock):
    from sms.bulk.models import BulkSend
    from sms.bulk.runner import finish_if_done

    make_destination("slack", receiver.url, events=events.BULK_FINISHED)
    send = BulkSend.create(title="年始のご案内", status="running", message1="本文", recipient_count=0, slot_count=0)
    assert finish_if_done(send.id)
    run_deliveries()
    [received] = receiver.requests
    assert "一括配信「" in received.json()["text"] and "年始のご案内" in received.json()["text"]


def test_an_event_is_kept_exactly_when_its_record_is(app, make_destination):
    make_destination("webhook")

    class Undo(Exception):
        pass

    with pytest.raises(Undo), database.atomic():
        events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
        assert Delivery.select().count() == 1
        raise Undo
    assert Event.select().count() == 0 and Delivery.select().count() == 0


def test_nothing_is_written_when_no_destination_wants_the_event(app, make_destination):
    make_destination("webhook", events=events.SMS_FAILED)
    events.announce(events.VOICEMAIL_LEFT, {"from_number": CALLER})
    assert Event.select().count() == 0


def test_a_failing_destination_is_retried_with_backoff_then_paused(app, receiver, make_destination, clock):
    destination = make_destination("webhook", receiver.url, events=events.REPORT_PUBLISHED)
    receiver.statuses = [500, 503, 500, 502]
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-06"})

    run_deliveries()  # both fail once
    first, _second = Delivery.select().order_by(Delivery.id)
    assert (first.state, first.attempts, first.due_at) == ("pending", 1, clock.now() + dt.timedelta(seconds=30))
    assert "応答 500" in first.last_error
    run_deliveries()  # not due yet: nothing is sent
    assert len(receiver.requests) == 2

    clock.advance(seconds=30)
    run_deliveries()  # the second failure in a row of each: four in a row → paused
    assert len(receiver.requests) == 4
    paused = Destination.get_by_id(destination.id)
    assert paused.paused_at is not None and "4 回続けて送信に失敗" in paused.pause_reason
    first = Delivery.get_by_id(first.id)
    assert (first.state, first.attempts, first.due_at) == ("pending", 2, clock.now() + dt.timedelta(minutes=2))

    clock.advance(minutes=10)
    run_deliveries()
    assert len(receiver.requests) == 4  # paused: nothing goes out

    from notify.outbox import resume

    resume(paused)
    run_deliveries()  # the receiver works again
    assert len(receiver.requests) == 6
    assert {d.state for d in Delivery.select()} == {"sent"}
    assert Destination.get_by_id(destination.id).consecutive_failures == 0


def test_a_delivery_gives_up_after_the_last_attempt(app, receiver, make_destination, clock):
    make_destination("webhook", receiver.url)
    receiver.statuses = [500, 500, 500]
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
    for _ in range(3):
        run_deliveries()
        clock.advance(hours=1)
    [delivery] = Delivery.select()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    run_deliveries()
    assert len(receiver.requests) == 3


def test_quiet_hours_hold_notifications_until_they_end(app, receiver, make_destination, clock):
    make_destination("slack", receiver.url, quiet_start="21:00", quiet_end="08:00")
    clock.set("2026-01-05 23:10")
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
    report = run_deliveries()
    assert report.held == 1 and receiver.requests == []
    [delivery] = Delivery.select()
    assert delivery.due_at == dt.datetime(2026, 1, 6, 8, 0) and delivery.attempts == 0
    clock.set("2026-01-06 07:59")
    run_deliveries()
    assert receiver.requests == []
    clock.set("2026-01-06 08:00")
    run_deliveries()
    assert len(receiver.requests) == 1


def test_an_unreachable_destination_is_a_failed_attempt(app, make_destination):
    make_destination("webhook", f"http://127.0.0.1:{free_port()}/")
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
    run_deliveries()
    [delivery] = Delivery.select()
    assert delivery.state == "pending" and "接続できませんでした" in delivery.last_error


# --- e-mail -----------------------------------------------------------------------------------------------------
class Authenticator:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"notify-user" and auth_data.password == b"mail-pass"
        return AuthResult(success=ok)


@pytest.fixture
def mailbox():
    inbox = Mailbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=Authenticator(),
                            auth_require_tls=False)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_a_voicemail_arrives_by_e_mail_at_a_real_smtp_server(app, client, mailbox, make_destination):
    inbox, port = mailbox
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{
        "notify.smtp_port": port, "notify.smtp_user": "notify-user", "notify.smtp_password": "mail-pass"})
    voicemail_flow()
    make_destination("email", "desk@example.jp, boss@example.jp", events=events.VOICEMAIL_LEFT)
    Phone(client).dial(FLOW_NUMBER, caller=CALLER).recorded(RECORDING, 12)
    assert run_deliveries().sent == 1
    [(sender, recipients, message)] = inbox.messages
    assert sender == "ivr@example.jp" and recipients == ["desk@example.jp", "boss@example.jp"]
    assert message["Subject"].startswith("【留守番電話の録音】090-1234-5678 から留守番電話が届きました")
    assert "notify-" in message["Message-ID"]
    assert "着信番号: 050-1111-2222 代表番号" in message.get_content()


def test_a_wrong_smtp_password_is_a_failed_attempt(app, mailbox, make_destination):
    _, port = mailbox
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{
        "notify.smtp_port": port, "notify.smtp_user": "notify-user", "notify.smtp_password": "wrong"})
    make_destination("email", "desk@example.jp")
    events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
    run_deliveries()
    [delivery] = Delivery.select()
    assert delivery.state == "pending" and "受け付けませんでした" in delivery.last_error


def test_starttls_checks_the_mail_servers_certificate(app, mailbox, make_destination, tmp_path, monkeypatch):
    """STARTTLS against a server with a self-signed certificate: trusted (SSL_CERT_FILE) it is sent; otherwise
    the connection is refused before the password is given."""
    import ssl

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Mailbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=Authenticator())
    controller.start()
    try:
        app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{
            "notify.smtp_port": controller.port, "notify.smtp_starttls": True, "notify.smtp_user": "notify-user",
            "notify.smtp_password": "mail-pass"})
        make_destination("email", "desk@example.jp")
        events.announce(events.REPORT_PUBLISHED, {"cutoff": "2026-01-05"})
        run_deliveries()
        [delivery] = Delivery.select()
        assert delivery.state == "pending" and "メールサーバー" in delivery.last_error and inbox.messages == []

        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        Delivery.update(due_at=None).execute()
        Delivery.update(due_at=dt.datetime(2026, 1, 5)).execute()
        assert run_deliveries().sent == 1
        assert json.dumps(inbox.messages[0][1]) == '["desk@example.jp"]'
    finally:
        controller.stop()
