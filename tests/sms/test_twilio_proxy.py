"""The twilio client reads the proxy environment once per host rather than on every request (core.twilio.
transport.Urllib3HttpClient), but it does read it: here the API's host does not exist and the local Twilio server is
the HTTP proxy every request goes through."""
import pytest

from sms.models import Message
from sms.outbox import run_dispatch
from sms.sending import queue_text
from tests.sms.conftest import twilio_config


@pytest.fixture
def app_config(app_config, twilio_server):
    return twilio_config(app_config, twilio_server, **{"twilio.api_base_url": "http://twilio-api.invalid",
                                                       "sms.carrier_lookup": False})


def test_every_send_goes_through_the_proxy_of_the_environment(app, twilio_server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", twilio_server.url)
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    ids = [queue_text("お知らせです。", f"090-1234-567{n}", source="api").message_id for n in range(3)]
    assert run_dispatch().sent == 3
    assert sorted(m.sid for m in twilio_server.log) == sorted(Message.get_by_id(i).provider_sid for i in ids)
    assert {path for method, path in twilio_server.requests if method == "POST"} == {
        f"/2010-04-01/Accounts/{app.config['SETTINGS']['twilio.account_sid']}/Messages.json"}
