"""The twilio client's transport (core.twilio.transport) reads the proxy environment once per host rather than on
every request, but reads it as requests would: the proxy of the scheme (with its credentials, with or without a
scheme of its own), and NO_PROXY. Here the local Twilio server plays the proxy, and the API's host does not exist,
so a request that did not go through the proxy fails."""
import base64

import pytest

from core.twilio import client_for
from sms.models import Message
from sms.outbox import run_dispatch
from sms.sending import queue_text
from tests.sms.conftest import twilio_config

NOWHERE = "http://twilio-api.invalid"
ACCOUNT = "AC" + "1" * 32


@pytest.fixture
def app_config(app_config, twilio_server):
    return twilio_config(app_config, twilio_server, **{"twilio.api_base_url": NOWHERE, "sms.carrier_lookup": False})


@pytest.fixture
def environment(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def send_one(base: str, token: str) -> str:
    return client_for(ACCOUNT, token, base).messages.create(to="+819012345678", from_="+815012340000",
                                                            body="お知らせです。").sid


def test_every_send_of_the_dispatcher_goes_through_the_proxy(app, twilio_server, environment):
    environment.setenv("HTTP_PROXY", twilio_server.url)
    ids = [queue_text("お知らせです。", f"090-1234-567{n}", source="api").message_id for n in range(3)]
    assert run_dispatch().sent == 3
    assert sorted(m.sid for m in twilio_server.log) == sorted(Message.get_by_id(i).provider_sid for i in ids)
    assert {path for method, path in twilio_server.requests if method == "POST"} == {
        f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"}


def test_the_proxys_credentials_are_sent_to_it(app, twilio_server, environment):
    environment.setenv("HTTP_PROXY", twilio_server.url.replace("http://", "http://ivr:p%40ss@"))
    sid = send_one(NOWHERE, app.config["TWILIO_AUTH_TOKEN"])
    assert [m.sid for m in twilio_server.log] == [sid]
    assert twilio_server.proxy_credentials == ["Basic " + base64.b64encode(b"ivr:p@ss").decode()]


def test_a_proxy_written_without_a_scheme_is_an_http_one(app, twilio_server, environment):
    environment.setenv("http_proxy", twilio_server.url.removeprefix("http://"))
    sid = send_one(NOWHERE, app.config["TWILIO_AUTH_TOKEN"])
    assert [m.sid for m in twilio_server.log] == [sid]


def test_no_proxy_sends_straight_to_the_host(app, twilio_server, environment):
    environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there: a proxied request fails
    environment.setenv("NO_PROXY", "localhost,127.0.0.1")
    sid = send_one(twilio_server.url, app.config["TWILIO_AUTH_TOKEN"])
    assert [m.sid for m in twilio_server.log] == [sid]


def test_an_unreachable_proxy_is_a_connection_error(app, twilio_server, environment):
    environment.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with pytest.raises(ConnectionError):
        send_one(twilio_server.url, app.config["TWILIO_AUTH_TOKEN"])
    assert twilio_server.log == []
