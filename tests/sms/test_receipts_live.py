"""Status callbacks posted over real HTTP by the local Twilio server to the running app: signed,
duplicated and out of order. A final status never goes back."""
import pytest

from core.db import database
from sms.models import Message, Receipt
from sms.outbox import run_dispatch
from sms.sending import queue_text
from tests.sms.conftest import twilio_config

TO = "+819012345678"


@pytest.fixture
def app_config(app_config, twilio_server):
    return twilio_config(app_config, twilio_server)


@pytest.fixture
def in_app(live_server):
    with live_server.app.app_context(), database.connection_context():
        yield live_server.app


def sent_message(text):
    message_id = queue_text(text, "090-1234-5678", source="api").message_id
    run_dispatch()
    return Message.get_by_id(message_id)


def test_duplicated_and_out_of_order_receipts_never_undo_delivered(in_app, twilio_server):
    message = sent_message("重複テスト")
    answers = twilio_server.post_statuses(message.provider_sid, [
        ("delivered", None), ("sent", None), ("delivered", None), ("queued", None), ("undelivered", 30005)])
    assert answers == [204] * 5
    final = Message.get_by_id(message.id)
    assert (final.state, final.status, final.error_message) == ("delivered", 2, "")
    receipts = list(Receipt.select().where(Receipt.message == message.id).order_by(Receipt.id))
    assert [(r.provider_status, r.applied) for r in receipts] == [
        ("delivered", True), ("sent", False), ("delivered", False), ("queued", False), ("undelivered", False)]


def test_failure_then_late_sent_and_delivered_stays_failed(in_app, twilio_server):
    message = sent_message("失敗テスト")
    twilio_server.post_statuses(message.provider_sid, [("undelivered", 30005), ("sent", None), ("undelivered", 30005)])
    final = Message.get_by_id(message.id)
    assert (final.state, final.status, final.error_message) == ("failed", 3, "現在使われていない番号")


def test_signature_is_checked_against_the_public_url(in_app, twilio_server, live_server):
    message = sent_message("署名テスト")
    sid = message.provider_sid
    # A callback signed with another account's token is forged.
    twilio_server.auth_token = "someone-elses-token"
    assert twilio_server.post_status(sid, "delivered") == 403
    twilio_server.auth_token = "test-auth-token"
    assert twilio_server.post_status(sid, "delivered") == 204
    assert Message.get_by_id(message.id).status == 2
