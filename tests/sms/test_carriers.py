"""R-29 carriers: normalised from Lookup v2 (MCC-MNC first, the name second), asked through the real twilio client
at TWILIO_API_BASE_URL (the local Twilio-compatible server answers Lookup v2), once per number until the cache
expires, in the dispatcher; a failed lookup leaves 不明 and the message still goes; a setting turns lookups off.
The simulator assigns carriers by number. The carrier shows in the log, message page, CSV and API."""
import csv
import io

import pytest

from core.retention import purge_expired
from core.twilio.lookups import LineType
from sms import carriers
from sms.models import CarrierCache, Message
from sms.outbox import run_dispatch
from sms.sending import queue_text
from sms.simulator import SimulatorLookup
from tests.sms.conftest import twilio_config


@pytest.mark.parametrize("line, expected", [
    (LineType("NTT DOCOMO, INC.", "440", "10"), "docomo"),
    (LineType("KDDI Corporation", "440", "50"), "au"),
    (LineType("UQ Communications", "440", "51"), "au"),
    (LineType("povo", "", ""), "au"),
    (LineType("SoftBank Corp.", "440", "20"), "softbank"),
    (LineType("Y!mobile", "440", "0"), "softbank"),          # MNC given without its leading zero
    (LineType("LINEMO", "", ""), "softbank"),
    (LineType("Rakuten Mobile, Inc.", "440", "11"), "rakuten"),
    (LineType("Some Carrier", "440", "10"), "docomo"),        # the network decides, whatever the name
    (LineType("Japan Radio Mobile", "440", "99"), "other"),
    (LineType("Verizon Wireless", "311", "480"), "other"),
    (LineType("", "", "", "", 60600), "unknown"),
    (LineType(), "unknown"),
])
def test_carriers_are_normalised(line, expected):
    assert carriers.normalise(line) == expected


def test_labels_in_words():
    assert [carriers.carrier_label(k) for k in ("docomo", "au", "softbank", "rakuten", "other", "unknown", "")] == [
        "ドコモ", "au (KDDI)", "ソフトバンク", "楽天モバイル", "その他", "不明", "不明"]


def test_the_simulator_gives_every_carrier_by_number():
    lookup = SimulatorLookup()
    found = {digit: carriers.normalise(lookup.line_type(f"+8190123456{digit}0"[:-1] + digit))
             for digit in "012345678"}
    assert found == {"0": "docomo", "1": "docomo", "2": "au", "3": "au", "4": "softbank", "5": "softbank",
                     "6": "rakuten", "7": "softbank", "8": "other"}
    with pytest.raises(carriers.LookupFailed):
        lookup.line_type("+819012345679")
    assert carriers.normalise(lookup.line_type("+819099990040")) == "softbank"  # a test number of its own


def test_simulator_dispatch_stores_the_carrier(app):
    ids = [queue_text("お知らせ", number, source="api").message_id for number in ("090-1234-5674", "090-1234-5679")]
    run_dispatch()
    assert [Message.get_by_id(i).carrier for i in ids] == ["softbank", "unknown"]
    assert Message.get_by_id(ids[1]).state == "sending"  # the lookup failed, the message went


class TestThroughTwilio:
    TO = "+819012345674"

    @pytest.fixture
    def app_config(self, app_config, twilio_server):
        return twilio_config(app_config, twilio_server)

    def queue(self, to="090-1234-5674"):
        result = queue_text("お知らせです。", to, source="api")
        assert result.ok, result.reason
        return result.message_id

    def test_lookup_asked_once_then_cached(self, app, twilio_server):
        first = self.queue()
        run_dispatch()
        second = self.queue()
        run_dispatch()
        assert twilio_server.lookups_of(self.TO) == 1
        assert ("GET", f"/v2/PhoneNumbers/{self.TO}") in twilio_server.requests
        assert [Message.get_by_id(i).carrier for i in (first, second)] == ["softbank", "softbank"]
        assert len(twilio_server.sent_to(self.TO)) == 2
        cached = CarrierCache.get(CarrierCache.number == self.TO)
        assert (cached.carrier, cached.carrier_name, cached.network) == ("softbank", "SoftBank Corp.", "440-20")

    def test_an_expired_entry_is_asked_again(self, app, clock, twilio_server):
        self.queue()
        run_dispatch()
        twilio_server.set_carrier(self.TO, "NTT DOCOMO, INC.", "440", "10")  # the number moved carrier
        clock.advance(days=29)
        self.queue()
        run_dispatch()
        assert twilio_server.lookups_of(self.TO) == 1
        clock.advance(days=1, seconds=1)
        later = self.queue()
        run_dispatch()
        assert twilio_server.lookups_of(self.TO) == 2
        assert Message.get_by_id(later).carrier == "docomo"

    def test_a_lookup_error_leaves_unknown_and_the_message_is_sent(self, app, twilio_server):
        twilio_server.fail_lookups(self.TO, http_status=503, code=None)
        failed = self.queue()
        assert run_dispatch().sent == 1
        message = Message.get_by_id(failed)
        assert (message.carrier, message.state) == ("unknown", "sending")
        assert len(twilio_server.sent_to(self.TO)) == 1
        assert not CarrierCache.select().exists()  # not cached: asked again next time
        again = self.queue()
        run_dispatch()
        assert (twilio_server.lookups_of(self.TO), Message.get_by_id(again).carrier) == (2, "softbank")

    def test_lookups_off_asks_nothing(self, app, twilio_server):
        app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.carrier_lookup": False})
        message_id = self.queue()
        assert run_dispatch().sent == 1
        assert twilio_server.lookups == [] and Message.get_by_id(message_id).carrier == ""

    def test_a_resend_keeps_the_carrier_without_asking_again(self, app, client, clock, twilio_server):
        from tests.sms.conftest import post_callback

        message_id = self.queue()
        run_dispatch()
        post_callback(client, twilio_server, Message.get_by_id(message_id).provider_sid, "undelivered", 30003)
        clock.advance(minutes=10)
        run_dispatch()
        assert len(twilio_server.sent_to(self.TO)) == 2 and twilio_server.lookups_of(self.TO) == 1


def test_carrier_in_log_message_page_csv_and_api(app, manager_client, client):
    from core.security import issue_api_token

    message_id = queue_text("お知らせ", "090-1234-5676", source="api").message_id
    run_dispatch()
    assert "楽天モバイル" in manager_client.get("/sms/log").get_data(as_text=True)
    assert "楽天モバイル" in manager_client.get(f"/sms/messages/{message_id}").get_data(as_text=True)
    raw = manager_client.get("/sms/log.csv?encoding=sjis").data
    rows = list(csv.reader(io.StringIO(raw.decode("cp932"))))
    assert dict(zip(rows[0], rows[1]))["キャリア"] == "楽天モバイル"
    token = issue_api_token("基幹")[1]
    body = client.get(f"/api/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert (body["carrier"], body["carrier_code"]) == ("楽天モバイル", "rakuten")


def test_the_cache_holds_numbers_and_goes_at_the_retention_purge(app, clock):
    queue_text("お知らせ", "090-1234-5671", source="api")
    run_dispatch()
    assert CarrierCache.select().count() == 1
    clock.advance(days=91)
    assert purge_expired()["sms.carrier_cache"] == 1
    assert not CarrierCache.select().exists()
