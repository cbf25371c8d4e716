"""The call simulator's voicemail: the page uploads what it recorded (the tester's microphone, or silence), staff
can play it back, its URL reaches the <Record> action like Twilio's RecordingUrl, and it goes with the call."""
import io
import re
import struct
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from core.retention import purge_expired
from ivr.models import Call, CallEvent
from ivr.simulator import recordings_dir, sweep_recordings
from tests.ivr.builders import node, spec
from tests.ivr.conftest import FLOW_NUMBER

SID = re.compile(r"CA[0-9a-f]{32}")


def silent_wav(seconds: int) -> bytes:
    samples = 8000 * seconds
    header = b"RIFF" + struct.pack("<I", 36 + samples * 2) + b"WAVEfmt " + struct.pack(
        "<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", samples * 2)
    return header + b"\0" * samples * 2


def call_from_the_simulator(page, live_server, browser_login) -> None:
    """Staff open the simulator and place a call with its defaults."""
    browser_login(page, "staff")
    page.goto(live_server.url + "/ivr/simulator")
    page.click("#sim-call")


def decoded_seconds(audio) -> float:
    """How long the browser finds the recording of an <audio> element once it has fetched and decoded it."""
    return audio.evaluate(
        "a => new Promise((ok, no) => { a.onloadedmetadata = () => ok(a.duration); a.onerror = () => no(a.error);"
        " a.preload = 'auto'; a.load(); })")


def recordings_config(app_config, tmp_path, **more) -> dict:
    """The app's settings with simulator recordings kept under the test's own folder."""
    return {**app_config, "ivr.simulator_recordings_dir": str(tmp_path / "recordings"), **more}


@pytest.fixture
def app_config(app_config, tmp_path):
    return recordings_config(app_config, tmp_path)


@pytest.fixture
def voicemail_flow(guidance, save_flow):
    return save_flow(spec("vm", node("vm", "voicemail", name="留守電", guidance=guidance["closed"],
                                     params={"max_seconds": 60})))


def simulated_call(staff_client):
    started = staff_client.post("/ivr/simulator/start", json={"to": FLOW_NUMBER, "from": "090-1234-5678"}).json
    return started["call_sid"], ET.fromstring(started["twiml"]).find("./Record").get("action")


def upload(client, call_sid, data: bytes):
    return client.post("/ivr/simulator/recording", csrf=False,
                       data={"call_sid": call_sid, "audio": (io.BytesIO(data), "voicemail")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": client.csrf_token()})


def test_a_recorded_voicemail_is_kept_playable_and_reaches_the_record_action(staff_client, voicemail_flow):
    call_sid, action = simulated_call(staff_client)
    stored = upload(staff_client, call_sid, silent_wav(3))
    assert stored.status_code == 200
    url = stored.json["url"]
    assert url == f"http://localhost/ivr/simulator/recordings/{call_sid}.wav"
    played = staff_client.get(url.removeprefix("http://localhost"))
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data == silent_wav(3)

    sent = staff_client.post("/ivr/simulator/send", json={
        "call_sid": call_sid, "url": action, "params": {"RecordingUrl": url, "RecordingDuration": "3"}}).json
    assert sent["status"] == 200
    record = Call.get(Call.call_sid == call_sid)
    detail = CallEvent.get((CallEvent.call == record.id) & (CallEvent.kind == "voicemail")).detail
    assert record.outcome == "voicemail" and detail == f"録音 3 秒: {url}"


def test_bad_uploads_get_japanese_errors_and_store_nothing(staff_client, voicemail_flow, app):
    call_sid, _ = simulated_call(staff_client)
    cases = [
        (call_sid, b"", 400, "録音データがありません。"),
        (call_sid, b"<html>not audio</html>", 400, "録音の形式が正しくありません（WebM・Ogg・WAV のみ）。"),
        (call_sid, b"RIFF\0\0\0\0AVI LIST", 400, "録音の形式が正しくありません（WebM・Ogg・WAV のみ）。"),
        (call_sid, b"OggS" + b"\0" * (10 * 1024 * 1024), 413, "録音が大きすぎます（10 MB まで）。"),
        ("CA" + "0" * 32, silent_wav(1), 404, "シミュレーターの通話が見つかりません。もう一度発信してください。"),
    ]
    for sid, data, status, message in cases:
        response = upload(staff_client, sid, data)
        assert (response.status_code, response.json["error"]["message"]) == (status, message)
    assert not recordings_dir().exists() or list(recordings_dir().iterdir()) == []


def test_only_staff_reach_recordings_and_only_by_their_exact_name(client, staff_client, voicemail_flow):
    call_sid, _ = simulated_call(staff_client)
    upload(staff_client, call_sid, silent_wav(1))
    path = f"/ivr/simulator/recordings/{call_sid}.wav"
    assert client.get(path).status_code == 302  # to the login page
    for wrong in (f"{call_sid}.mp3", f"{call_sid[:-1]}.wav", f"..%2F{call_sid}.wav", f"{call_sid}.webm"):
        assert staff_client.get(f"/ivr/simulator/recordings/{wrong}").status_code == 404


def test_a_real_calls_recording_cannot_be_replaced(staff_client, phone, voicemail_flow):
    real = phone.dial(FLOW_NUMBER)  # Twilio's call, not the simulator's
    response = upload(staff_client, real.sid, silent_wav(1))
    assert response.status_code == 404


def test_recordings_of_calls_no_longer_kept_are_swept(staff_client, voicemail_flow):
    kept_sid, _ = simulated_call(staff_client)
    purged_sid, _ = simulated_call(staff_client)
    for sid in (kept_sid, purged_sid):
        assert upload(staff_client, sid, silent_wav(1)).status_code == 200
    Call.delete().where(Call.call_sid == purged_sid).execute()  # as the 90-day purge does
    (recordings_dir() / "notes.txt").write_text("not ours")
    assert sweep_recordings() == 1
    assert sorted(p.name for p in recordings_dir().iterdir()) == sorted(["notes.txt", f"{kept_sid}.wav"])


def test_the_daily_purge_sweeps_the_recordings_of_the_calls_it_deletes(staff_client, clock, voicemail_flow):
    purged_sid, _ = simulated_call(staff_client)
    assert upload(staff_client, purged_sid, silent_wav(1)).status_code == 200
    clock.advance(days=91)
    kept_sid, _ = simulated_call(staff_client)
    assert upload(staff_client, kept_sid, silent_wav(1)).status_code == 200
    clock.advance(days=1)
    counts = purge_expired()
    assert (counts["ivr.calls"], counts["ivr.simulator_recordings"]) == (1, 1)
    assert [path.name for path in recordings_dir().iterdir()] == [f"{kept_sid}.wav"]


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_the_simulator_records_the_testers_microphone_and_plays_it_back(page, live_server, browser_login,
                                                                        voicemail_flow):
    call_from_the_simulator(page, live_server, browser_login)
    page.locator("#sim-record[data-microphone=recording]").wait_for()
    page.wait_for_timeout(1500)  # 1.5 s of chromium's fake microphone (it beeps) go into the recorder
    page.click("#sim-record-stop")
    player = page.locator("#sim-events tr.ev-voicemail audio.sim-recording")
    player.wait_for()
    src = player.get_attribute("src")
    call_sid = SID.search(src).group(0)
    assert src == f"{live_server.url}/ivr/simulator/recordings/{call_sid}.webm"
    assert page.locator("#sim-log li.sim-record", has_text="マイクを使えない").count() == 0
    fetched = page.request.get(src)
    assert fetched.status == 200 and fetched.headers["content-type"] == "audio/webm"
    assert fetched.body()[:4] == b"\x1a\x45\xdf\xa3" and len(fetched.body()) > 1000
    assert Call.get(Call.call_sid == call_sid).outcome == "voicemail"

    page.click("nav.sidemenu >> text=留守番電話")
    row = page.locator("table.voicemails tbody tr", has_text="090-1234-5678")
    expect(row).to_contain_text("未対応")
    seconds = decoded_seconds(row.locator("audio"))
    assert 1.4 <= seconds < 30  # the browser decoded the 1.5 s it recorded, fetched through the voicemail page
    row.locator("button", has_text="対応済みにする").click()
    expect(page.locator(".flash-success")).to_contain_text("対応済みにしました")
    expect(page.locator("table.voicemails tbody tr")).to_have_count(0)


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_without_a_microphone_the_simulator_sends_silence_and_says_why(page, live_server, browser_login,
                                                                      voicemail_flow):
    # As on a page opened over plain http from another machine: browsers give it no microphone.
    page.add_init_script("Object.defineProperty(navigator, 'mediaDevices', { value: undefined })")
    call_from_the_simulator(page, live_server, browser_login)
    page.locator("#sim-record:not([hidden])").wait_for()
    note = page.locator("#sim-log li.sim-record", has_text="マイクを使えないため、無音の録音を送ります")
    note.wait_for()
    assert page.get_attribute("#sim-record", "data-microphone") == "none"
    page.click("#sim-record-stop")
    player = page.locator("#sim-events tr.ev-voicemail audio.sim-recording")
    player.wait_for()
    fetched = page.request.get(player.get_attribute("src"))
    assert fetched.status == 200 and fetched.headers["content-type"] == "audio/wav"
    body = fetched.body()
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and set(body[44:]) == {0}
    seconds = (len(body) - 44) // 16000
    assert 1 <= seconds <= 3
