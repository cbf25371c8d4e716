"""The IVR's "send SMS" node end to end: a caller rings the demo flow, presses 1, the webhook queues storage
box 1 (no provider call inside the webhook), the dispatcher sends it through the real twilio client to the local
Twilio server, the signed receipt marks it delivered and the caller's click on the short link is counted."""
import re

import pytest

from sms.models import Message
from sms.outbox import run_dispatch
from tests.ivr.conftest import made_once, shared_audio_dir  # noqa: F401  (fixture reused: audio made once)
from tests.ivr.phone import Phone
from tests.sms.conftest import post_callback, twilio_config

CALLER = "+819012345678"
FLOW_NUMBER = "+815012340000"  # twilio.from_number in twilio_config: the demo flow answers it


@pytest.fixture
def app_config(app_config, twilio_server, shared_audio_dir):  # noqa: F811
    return twilio_config(app_config, twilio_server, **{"guidance.audio_dir": str(shared_audio_dir)})


@pytest.fixture
def demo(app):
    import ivr
    import sms
    from guidance.public import ensure_guidance
    from ivr.demo import DEMO_GUIDANCE

    made_once("demo", lambda: {key: ensure_guidance(name, kind, text)
                               for key, (kind, name, text) in DEMO_GUIDANCE.items()})
    sms.seed_defaults(app)
    ivr.seed_defaults(app)


def test_pressing_1_sends_box_1_to_the_caller_through_twilio(app, client, demo, twilio_server):
    call = Phone(client).dial(FLOW_NUMBER, caller=CALLER)
    call.press("1")
    assert call.hung_up
    message = Message.get(Message.call_sid == call.sid)
    assert (message.box_number, message.to_number, message.source, message.state) == (1, CALLER, "ivr", "queued")
    assert twilio_server.sent_to(CALLER) == []  # the webhook only queued it

    assert run_dispatch().sent == 1
    [sent] = twilio_server.sent_to(CALLER)
    assert (sent.from_, sent.status_callback) == (FLOW_NUMBER, "http://localhost/twilio/sms/status")
    assert sent.body.startswith("お電話ありがとうございます。お問い合わせの詳細は下記URLからご確認いただけます。\nhttp://localhost/s/")
    assert re.search(r"配信停止をご希望の方はこちら: http://localhost/optout/[\w-]+$", sent.body)
    assert Message.get_by_id(message.id).provider_sid == sent.sid

    assert post_callback(client, twilio_server, sent.sid, "delivered").status_code == 204
    short = re.search(r"http://localhost(/s/\w+)", sent.body).group(1)
    assert client.get(short).headers["Location"] == "https://example.jp/support"
    final = Message.get_by_id(message.id)
    assert (final.status, final.state, final.clicks) == (2, "delivered", 1)
    assert run_dispatch().handled == 0 and len(twilio_server.sent_to(CALLER)) == 1
