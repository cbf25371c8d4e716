"""SMS test helpers: signed status callbacks through the test client, a dispatcher run, a storage box."""
from __future__ import annotations

import pytest

from sms.models import StorageBox


@pytest.fixture
def box(app):
    return StorageBox.create(number=7, name="来店予約", body="ご予約ありがとうございます。詳細: {url}",
                             url="https://example.jp/reserve")


def post_callback(client, twilio_server, sid, status, error_code=None, signature=None):
    """What Twilio posts to the status callback, signed with the account's token, via the test client."""
    message = twilio_server.message(sid)
    params = twilio_server.callback_params(sid, status, error_code)
    signed = signature if signature is not None else twilio_server.signature(message.status_callback, params)
    return client.post("/twilio/sms/status", data=params, headers={"X-Twilio-Signature": signed}, csrf=False)


def twilio_config(app_config, twilio_server, **extra):
    return {**app_config, "telephony.provider": "twilio", "twilio.api_base_url": twilio_server.url,
            "twilio.from_number": "+815012340000", "sms.mps_limit": 0, **extra}
