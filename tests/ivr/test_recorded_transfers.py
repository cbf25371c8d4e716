"""通話録音: a transfer node that records says so first, asks Twilio to record both sides from the answer, stores
the recording its signed callback reports (once), lists it with the call and plays it through the app; the
90-day purge deletes it at Twilio (the local Twilio-compatible server's recording resource) before the row."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.retention import purge_expired
from ivr.forms import params_from_row
from ivr.models import Call, CallRecording
from tests.ivr.builders import node, spec
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.phone import Phone
from tests.ivr.test_simulator_recordings import silent_wav

CALLER = "+819012345678"
OPERATOR = "+81312345678"
NOTICE = "この通話はサービス向上のため録音させていただきます。"


@pytest.fixture
def app_config(app_config, twilio_server, tmp_path):
    return {**app_config, "twilio.api_base_url": twilio_server.url,
            "ivr.simulator_recordings_dir": str(tmp_path / "recordings")}


@pytest.fixture
def recorded_flow(save_flow):
    return save_flow(spec("op", node("op", "transfer", name="オペレーター", exits={"no_answer": "end"},
                                     params={"number": OPERATOR, "timeout": 20, "record": True}),
                          node("end", "hangup", name="終了")), name="代表番号")


def recording_callback(phone: Phone, call, url: str, sid: str = "RE" + "3" * 32, seconds: int = 42, **extra):
    params = call.params(RecordingSid=sid, RecordingUrl=url, RecordingStatus="completed",
                         RecordingDuration=str(seconds), RecordingChannels="2", RecordingSource="DialVerb", **extra)
    return phone.post(call.root.find("./Dial").get("recordingStatusCallback"), params)


def test_the_twiml_says_the_notice_then_dials_with_recording(client, recorded_flow):
    call = Phone(client).dial(FLOW_NUMBER, caller=CALLER)
    assert call.spoken() == [("Say", NOTICE)]
    dial = call.root.find("./Dial")
    assert [child.tag for child in call.root] == ["Say", "Dial"]
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == "http://localhost/twilio/voice/recording"
    assert dial.get("recordingStatusCallbackEvent") == "completed"
    assert dial.text == OPERATOR


def test_a_transfer_without_recording_has_no_notice(client, save_flow):
    save_flow(spec("op", node("op", "transfer", name="オペレーター", exits={"no_answer": "end"},
                              params={"number": OPERATOR}), node("end", "hangup", name="終了")))
    call = Phone(client).dial(FLOW_NUMBER)
    assert call.spoken() == [] and call.root.find("./Dial").get("record") is None


def test_a_chosen_notice_guidance_plays_instead(client, save_flow, guidance):
    save_flow(spec("op", node("op", "transfer", name="オペレーター", exits={"no_answer": "end"},
                              params={"number": OPERATOR, "record": True,
                                      "record_notice_guidance": guidance["busy"]}),
                   node("end", "hangup", name="終了")))
    call = Phone(client).dial(FLOW_NUMBER)
    assert len(call.plays()) == 1 and call.root.find("./Say") is None


def test_the_editor_form_turns_recording_on():
    errors: list[str] = []
    row = {"transfer_number": "03-1234-5678", "transfer_timeout": "20", "transfer_record": True,
           "record_notice_guidance": ""}
    params = params_from_row(row, "transfer", lambda name, default: 20, lambda name: None, errors, "転送")
    assert params == {"number": OPERATOR, "timeout": 20, "record": True, "record_notice_guidance": None}
    assert errors == []


def test_the_callback_stores_the_recording_once_and_the_page_plays_it(client, staff_client, recorded_flow,
                                                                      twilio_server):
    wav = silent_wav(2)
    url = twilio_server.add_recording(wav)
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER, caller=CALLER)
    assert recording_callback(phone, call, url).status_code == 200
    assert recording_callback(phone, call, url).status_code == 200  # Twilio's retry: still one
    forged = phone.post("http://localhost/twilio/voice/recording", call.params(RecordingUrl=url), signature="x")
    assert forged.status_code == 403
    [recording] = CallRecording.select()
    assert (recording.call.call_sid, recording.url, recording.seconds, recording.channels) == (call.sid, url, 42, 2)

    page = staff_client.get("/ivr/recordings").get_data(as_text=True)
    assert "090-1234-5678" in page and "代表番号" in page and "42 秒" in page
    assert f'src="/ivr/recordings/{recording.id}/audio"' in page and url not in page
    played = staff_client.get(f"/ivr/recordings/{recording.id}/audio")
    assert played.status_code == 200 and played.data == wav
    assert ("GET", url.removeprefix(twilio_server.url)) in twilio_server.requests


def test_a_recording_still_in_progress_or_of_an_unknown_call_is_not_stored(client, recorded_flow, twilio_server):
    url = twilio_server.add_recording(silent_wav(1))
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER)
    params = call.params(RecordingUrl=url, RecordingStatus="failed", RecordingSid="RE" + "4" * 32)
    assert phone.post("http://localhost/twilio/voice/recording", params).status_code == 200
    params = {**call.params(RecordingUrl=url, RecordingSid="RE" + "5" * 32), "CallSid": "CA" + "f" * 32}
    assert phone.post("http://localhost/twilio/voice/recording", params).status_code == 200
    assert CallRecording.select().count() == 0


def test_the_purge_deletes_the_recording_at_twilio_with_its_call(client, recorded_flow, twilio_server, clock):
    url = twilio_server.add_recording(silent_wav(1))
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER)
    recording_callback(phone, call, url)
    call.hang_up()
    clock.advance(days=92)
    counts = purge_expired()
    assert counts["ivr.calls"] == 1
    assert ("DELETE", url.removeprefix(twilio_server.url) + ".json") in twilio_server.requests
    assert CallRecording.select().count() == 0 and Call.select().count() == 0


def test_a_call_waits_while_twilio_cannot_delete_its_recording(client, recorded_flow, twilio_server, clock):
    url = twilio_server.add_recording(silent_wav(1))
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER)
    recording_callback(phone, call, url)
    twilio_server.stop()  # Twilio unreachable: the call and its recording's address are kept for the next run
    clock.advance(days=92)
    assert purge_expired()["ivr.calls"] == 0
    assert CallRecording.select().count() == 1


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_the_simulator_records_a_transfer_and_the_recordings_page_plays_it(page, live_server, browser_login,
                                                                         recorded_flow):
    browser_login(page, "staff")
    page.goto(live_server.url + "/ivr/simulator")
    page.click("#sim-call")
    page.locator("#sim-log li", has_text="この転送は録音されます").wait_for()
    page.locator("#sim-dial:not([hidden])").wait_for()
    page.locator("#sim-record[data-microphone=recording]").wait_for(state="attached")  # the recorder started (a loaded
    page.wait_for_timeout(1500)  # machine takes its time): 1.5 s of chromium's fake microphone (it beeps) go into it
    page.click("#sim-dial button[data-dial='completed']")
    page.locator("#sim-log li", has_text="通話の録音を保存しました").wait_for()
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)
    call_sid = page.locator("#simulator").get_attribute("data-call-sid")
    [recording] = CallRecording.select().join(Call).where(Call.call_sid == call_sid)
    assert recording.url == f"{live_server.url}/ivr/simulator/recordings/{call_sid}.webm"
    assert Call.get(Call.call_sid == call_sid).outcome == "transferred"

    page.click("nav.sidemenu >> text=通話録音")
    row = page.locator("table.call-recordings tbody tr", has_text="090-1234-5678")
    expect(row).to_contain_text("シミュレーター")
    seconds = row.locator("audio").evaluate(
        "a => new Promise((ok, no) => { a.onloadedmetadata = () => ok(a.duration); a.onerror = () => no(a.error);"
        " a.preload = 'auto'; a.load(); })")
    assert 1.4 <= seconds < 30  # the browser decoded what it recorded, fetched through the recordings page
