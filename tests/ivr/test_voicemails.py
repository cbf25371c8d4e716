"""留守番電話: a caller's <Record> becomes a voicemail staff can hear (fetched from the local Twilio-compatible
server with the account's credentials, never from anywhere else) and mark as dealt with; it goes with its call."""
import threading
from urllib.parse import urlsplit

import pytest

from core.models import AuditLog
from core.retention import purge_expired
from ivr.models import Call, Voicemail
from tests.conftest import TEST_ACCOUNT_SID
from tests.ivr.builders import node, spec
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.phone import Phone
from tests.ivr.test_simulator_recordings import recordings_config, silent_wav, simulated_call, upload

CALLER = "+819012345678"


@pytest.fixture
def app_config(app_config, twilio_server, tmp_path):
    return recordings_config(app_config, tmp_path, **{"twilio.api_base_url": twilio_server.url})


@pytest.fixture
def voicemail_flow(guidance, save_flow):
    return save_flow(spec("vm", node("vm", "voicemail", name="営業時間外の録音", guidance=guidance["closed"],
                                     params={"max_seconds": 60})), name="代表番号")


def leave_voicemail(client, url: str, seconds: int = 3, caller: str = CALLER):
    call = Phone(client).dial(FLOW_NUMBER, caller=caller)
    call.recorded(url, seconds)
    assert call.hung_up
    return call


def test_a_voicemail_on_twilio_is_listed_and_played_through_the_app(client, staff_client, voicemail_flow,
                                                                    twilio_server):
    wav = silent_wav(3)
    url = twilio_server.add_recording(wav)
    call = leave_voicemail(client, url)
    [voicemail] = Voicemail.select()
    assert (voicemail.call.call_sid, voicemail.url, voicemail.seconds, voicemail.node_name) == (
        call.sid, url, 3, "営業時間外の録音")

    page = staff_client.get("/ivr/voicemails").get_data(as_text=True)
    assert "090-1234-5678" in page and "代表番号" in page and "3 秒" in page
    assert '<span class="badge warn">未対応</span>' in page
    assert f'src="/ivr/voicemails/{voicemail.id}/audio"' in page
    assert url not in page  # the browser never talks to Twilio

    played = staff_client.get(f"/ivr/voicemails/{voicemail.id}/audio")
    assert played.status_code == 200 and played.mimetype == "audio/x-wav" and played.data == wav
    assert ("GET", url.removeprefix(twilio_server.url)) in twilio_server.requests


def test_voicemail_numbers_are_shown_as_on_every_page(client, staff_client, voicemail_flow, twilio_server):
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)), caller="+81312345678")
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)), caller="+266696687")  # Twilio's 非通知
    page = staff_client.get("/ivr/voicemails").get_data(as_text=True)
    table = page[page.index("<table"):page.index("</table>")]
    assert "03-1234-5678" in table and table.count("050-1111-2222") == 2 and "非通知" in table
    assert "+81" not in table and "+266696687" not in table


def test_twilios_retry_of_the_record_action_keeps_one_voicemail(client, voicemail_flow, twilio_server):
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER)
    action = call.root.find("./Record").get("action")
    params = call.params(RecordingUrl=twilio_server.add_recording(silent_wav(1)), RecordingDuration="1",
                         RecordingSid="RE" + "2" * 32)
    first, retried = phone.post(action, params), phone.post(action, params)
    assert first.get_data() == retried.get_data()
    assert Voicemail.select().count() == 1


def test_staff_mark_a_voicemail_handled_and_back(client, staff_client, voicemail_flow, twilio_server):
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)))
    voicemail = Voicemail.get()
    done = staff_client.post(f"/ivr/voicemails/{voicemail.id}/handled", data={"show": "open"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "を対応済みにしました。" in text and "該当するデータはありません。" in text  # gone from 未対応
    handled = Voicemail.get_by_id(voicemail.id)
    assert handled.handled_at is not None and handled.handled_by == "staff1"
    listed = staff_client.get("/ivr/voicemails?show=handled").get_data(as_text=True)
    assert '<span class="badge ok">対応済み</span>' in listed and "未対応に戻す" in listed and "staff1" in listed

    again = staff_client.post(f"/ivr/voicemails/{voicemail.id}/handled", follow_redirects=True)  # a second click
    assert "は既に対応済みです（staff1 さん）。" in again.get_data(as_text=True)
    assert Voicemail.get_by_id(voicemail.id).handled_at == handled.handled_at

    staff_client.post(f"/ivr/voicemails/{voicemail.id}/handled", data={"undo": "1"})
    assert Voicemail.get_by_id(voicemail.id).handled_at is None
    trail = AuditLog.select().where(AuditLog.action.startswith("ivr.voicemail.")).order_by(AuditLog.id)
    assert [(a.action, a.actor, a.target) for a in trail] == [("ivr.voicemail.handled", "staff1", CALLER),
                                                             ("ivr.voicemail.reopened", "staff1", CALLER)]
    assert staff_client.post("/ivr/voicemails/999999/handled").status_code == 404


def test_search_finds_a_voicemail_by_the_callers_number_as_staff_type_it(client, staff_client, voicemail_flow,
                                                                        twilio_server):
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)), caller="+819011112222")
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)), caller="+819033334444")
    for typed in ("090-3333-4444", "０９０－３３３３", "4444"):
        found = staff_client.get("/ivr/voicemails", query_string={"q": typed}).get_data(as_text=True)
        assert "090-3333-4444" in found and "090-1111-2222" not in found, typed
    assert "090-1111-2222" in staff_client.get("/ivr/voicemails?show=all&q=代表").get_data(as_text=True)
    assert "該当するデータはありません。" in staff_client.get("/ivr/voicemails?q=営業2").get_data(as_text=True)  # not digits
    assert "090-3333-4444" in staff_client.get("/ivr/voicemails?q=090.3333―4444").get_data(as_text=True)

    staff_client.post(f"/ivr/voicemails/{Voicemail.get().id}/handled")
    handled = staff_client.get("/ivr/voicemails?show=handled").get_data(as_text=True)
    assert '<input type="hidden" name="show" value="handled">' in handled  # a search keeps the filter


@pytest.mark.parametrize("where", ["another host", "another account", "not a recording", "userinfo", "newline",
                                   "dot-dot", "query"])
def test_a_recording_url_elsewhere_is_never_fetched_with_the_credentials(client, staff_client, voicemail_flow,
                                                                         twilio_server, where):
    genuine = twilio_server.add_recording(silent_wav(1))
    url = {"another host": genuine.replace(twilio_server.url, "https://recordings.example.net"),
           "another account": genuine.replace(TEST_ACCOUNT_SID, "AC" + "9" * 32),
           "not a recording": genuine.replace("/Recordings/", "/Messages/"),
           "userinfo": genuine.replace("http://", "http://127.0.0.1@recordings.example.net/x?"),
           "newline": genuine + "\n",
           "dot-dot": genuine.replace("/Recordings/", "/Recordings/../Recordings/"),
           "query": genuine + "?to=https://recordings.example.net"}[where]
    leave_voicemail(client, url)
    before = len(twilio_server.requests)
    played = staff_client.get(f"/ivr/voicemails/{Voicemail.get().id}/audio")
    assert played.status_code == 502 and played.mimetype == "text/plain"
    message = played.get_data(as_text=True)
    if where == "another account":
        assert message == "この録音は設定中とは別の Twilio アカウントのものです。"
    else:
        assert message.startswith("この録音の URL は Twilio（127.0.0.1:") and message.endswith("の録音ではないため再生できません。")
    assert len(twilio_server.requests) == before


def test_twilio_refusing_the_fetch_is_explained(app, client, staff_client, voicemail_flow, twilio_server):
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)))
    voicemail = Voicemail.get()
    app.config["TWILIO_AUTH_TOKEN"] = "a-token-twilio-does-not-know"
    refused = staff_client.get(f"/ivr/voicemails/{voicemail.id}/audio")
    assert refused.status_code == 502
    assert refused.get_data(as_text=True) == ("Twilio から録音を取得できませんでした（HTTP 401）。"
                                              "アカウント SID と認証トークンの設定を確認してください。")

    Voicemail.update(url=voicemail.url.rsplit("/", 1)[0] + "/RE" + "0" * 32).execute()  # deleted at Twilio
    app.config["TWILIO_AUTH_TOKEN"] = twilio_server.auth_token
    missing = staff_client.get(f"/ivr/voicemails/{voicemail.id}/audio")
    assert missing.status_code == 502 and missing.get_data(as_text=True) == "Twilio から録音を取得できませんでした（HTTP 404）。"

    twilio_server.stop()
    gone = staff_client.get(f"/ivr/voicemails/{voicemail.id}/audio")
    assert gone.status_code == 502 and gone.get_data(as_text=True) == "Twilio に接続できず、録音を取得できませんでした。"


def test_the_simulators_voicemail_is_listed_and_played_from_the_apps_own_file(staff_client, voicemail_flow):
    call_sid, action = simulated_call(staff_client)
    url = upload(staff_client, call_sid, silent_wav(2)).json["url"]
    sent = staff_client.post("/ivr/simulator/send", json={
        "call_sid": call_sid, "url": action, "params": {"RecordingUrl": url, "RecordingDuration": "2"}})
    assert sent.status_code == 200
    voicemail = Voicemail.get()
    assert "シミュレーター" in staff_client.get("/ivr/voicemails").get_data(as_text=True)
    played = staff_client.get(f"/ivr/voicemails/{voicemail.id}/audio")
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data == silent_wav(2)


def test_a_voicemail_goes_with_its_call_at_the_purge(client, clock, voicemail_flow, twilio_server):
    """Its recording at Twilio is deleted through Twilio's API (DELETE …/Recordings/{sid}.json) first."""
    url = twilio_server.add_recording(silent_wav(1))
    leave_voicemail(client, url)
    clock.advance(days=92)
    assert purge_expired()["ivr.calls"] == 1
    assert Voicemail.select().count() == Call.select().count() == 0
    assert twilio_server.deleted_recordings == [url.rsplit("/", 1)[1]]


def test_a_call_stays_until_twilio_has_deleted_its_recording(client, clock, voicemail_flow, twilio_server):
    first = twilio_server.add_recording(silent_wav(1))
    second = twilio_server.add_recording(silent_wav(1))
    leave_voicemail(client, first)
    leave_voicemail(client, second, caller="+819055556666")
    clock.advance(days=92)
    twilio_server.fail_recording_deletes(http_status=503)
    assert purge_expired()["ivr.calls"] == 0  # Twilio refused: both wait (the second is not even asked)
    assert Voicemail.select().count() == Call.select().count() == 2
    assert twilio_server.deleted_recordings == []
    clock.advance(days=1)
    assert purge_expired()["ivr.calls"] == 2  # the next day's purge
    assert sorted(twilio_server.deleted_recordings) == sorted(u.rsplit("/", 1)[1] for u in (first, second))
    assert Voicemail.select().count() == Call.select().count() == 0


def test_a_recording_of_another_account_is_not_deleted_and_its_call_still_goes(client, clock, voicemail_flow,
                                                                              twilio_server):
    elsewhere = twilio_server.add_recording(silent_wav(1)).replace(TEST_ACCOUNT_SID, "AC" + "9" * 32)
    leave_voicemail(client, elsewhere)
    clock.advance(days=92)
    assert purge_expired()["ivr.calls"] == 1
    assert twilio_server.deleted_recordings == [] and Call.select().count() == 0
    assert ("DELETE", urlsplit(elsewhere).path + ".json") not in twilio_server.requests


def test_only_logged_in_staff_reach_voicemails(client, voicemail_flow, twilio_server):
    leave_voicemail(client, twilio_server.add_recording(silent_wav(1)))
    for path in ("/ivr/voicemails", f"/ivr/voicemails/{Voicemail.get().id}/audio"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture
def signed_storage():
    """Storage a recording may be redirected to (as S3 with a signed URL): no auth, records what it was sent."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.support.fake_twilio import send_media

    seen: list[dict] = []

    class Storage(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            seen.append(dict(self.headers))
            send_media(self, silent_wav(2), "audio/wav")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Storage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/signed/recording.wav?sig=abc", seen
    server.shutdown()
    server.server_close()


def test_a_redirect_to_storage_is_followed_without_the_credentials(client, staff_client, voicemail_flow,
                                                                     twilio_server, signed_storage):
    storage_url, seen = signed_storage
    url = twilio_server.add_recording(b"")
    twilio_server.redirect_recording(url, storage_url)
    leave_voicemail(client, url)
    played = staff_client.get(f"/ivr/voicemails/{Voicemail.get().id}/audio")
    assert played.status_code == 200 and played.data == silent_wav(2)
    assert len(seen) == 1 and "Authorization" not in seen[0]


def test_a_redirect_to_plain_http_elsewhere_is_refused(client, staff_client, voicemail_flow, twilio_server,
                                                       signed_storage):
    storage_url, seen = signed_storage
    url = twilio_server.add_recording(b"")
    twilio_server.redirect_recording(url, storage_url.replace("127.0.0.1", "localhost"))
    leave_voicemail(client, url)
    refused = staff_client.get(f"/ivr/voicemails/{Voicemail.get().id}/audio")
    assert refused.status_code == 502 and seen == []
    assert refused.get_data(as_text=True) == ("Twilio が録音の取得先として https ではないアドレスを示したため、"
                                              "再生を中止しました。")


def test_the_player_can_seek_a_twilio_recording(client, staff_client, voicemail_flow, twilio_server):
    wav = silent_wav(2)
    leave_voicemail(client, twilio_server.add_recording(wav))
    part = staff_client.get(f"/ivr/voicemails/{Voicemail.get().id}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == wav[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(wav)}" and part.headers["Accept-Ranges"] == "bytes"


def test_a_simulator_recording_plays_after_the_public_address_changed(app, staff_client, voicemail_flow):
    call_sid, action = simulated_call(staff_client)
    url = upload(staff_client, call_sid, silent_wav(1)).json["url"]
    staff_client.post("/ivr/simulator/send", json={
        "call_sid": call_sid, "url": action, "params": {"RecordingUrl": url, "RecordingDuration": "1"}})
    app.config["PUBLIC_BASE_URL"] = "https://ivr.example.co.jp"
    played = staff_client.get(f"/ivr/voicemails/{Voicemail.get().id}/audio")
    assert played.status_code == 200 and played.data == silent_wav(1)
