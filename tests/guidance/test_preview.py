"""試聴: the voice file form's text heard before saving — synthesized on request, nothing stored or recorded."""
import pytest

from core.models import AuditLog
from guidance.models import VoiceFile
from tests.guidance.test_voice_files import form, stored_files
from tests.support.wav import read_wav_info

URL = "/guidance/voice-files/preview"


def speech(**overrides) -> dict:
    return {key: value for key, value in form(**overrides).items() if key not in ("name", "source")}


def test_the_typed_text_comes_back_as_telephone_audio_and_nothing_is_saved(staff_client):
    response = staff_client.post(URL, json=speech(text="ご予約は、ゼロサン、イチニーサンヨン。"))
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    info = read_wav_info(response.get_data())
    assert (info.rate, info.channels) == (8000, 1)
    assert 1.0 < info.seconds < 8.0
    assert "no-store" in response.headers["Cache-Control"]
    assert (VoiceFile.select().count(), AuditLog.select().where(AuditLog.action.startswith("voice_file")).count(),
            stored_files()) == (0, 0, [])


def test_speed_and_volume_as_set_in_the_form_are_heard(staff_client):
    normal = read_wav_info(staff_client.post(URL, json=speech(speed="1.0")).get_data())
    fast = read_wav_info(staff_client.post(URL, json=speech(speed="1.5")).get_data())
    assert fast.seconds < normal.seconds * 0.85


def test_a_text_already_saved_plays_the_saved_audio(staff_client, stored_audio):
    assert staff_client.post("/guidance/voice-files/new", data=form()).status_code == 302
    saved = VoiceFile.get(VoiceFile.name == "挨拶")
    response = staff_client.post(URL, json=speech())
    assert response.get_data() == stored_audio(saved.audio_hash)
    assert stored_files() == [f"{saved.audio_hash}.wav"]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("fields, message", [
    ({"text": ""}, "ガイダンス内容を入力してください。"),
    ({"text": "あ" * 501}, "ガイダンス内容は 500 文字以内にしてください（現在 501 文字）。"),
    ({"speed": "9"}, "話す速さは 0.5〜2.0 の範囲で入力してください"),
    ({"engine": "pyttsx3"}, "日本語の内容には「日本語（Open JTalk）」を選んでください。"),
    ({"text": "、、、。"}, "読み上げられる文字がありません。"),
])
def test_what_cannot_be_heard_is_explained_in_japanese(staff_client, fields, message):
    response = staff_client.post(URL, json=speech(**fields))
    assert 400 <= response.status_code < 500
    assert message in response.get_json()["error"]["message"]
    assert VoiceFile.select().count() == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize("body, content_type", [
    ("text=こんにちは", "text/plain"),
    ('["こんにちは"]', "application/json"),
    ('{"text": "\\ud800"}', "application/json"),  # a lone surrogate cannot be synthesized, stored or hashed
])
def test_a_body_that_is_not_the_form_is_refused_in_japanese(staff_client, body, content_type):
    response = staff_client.post(URL, data=body, content_type=content_type,
                                 headers={"X-CSRFToken": staff_client.csrf_token()}, csrf=False)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"
    assert "JSON" in response.get_json()["error"]["message"]


@pytest.mark.sqlite_only
def test_only_signed_in_staff_with_the_page_token_may_listen(client, staff_client):
    assert staff_client.post(URL, json=speech(), csrf=False).status_code == 400
    anonymous = client.post(URL, json=speech())
    assert anonymous.status_code in (302, 401) and anonymous.mimetype != "audio/wav"


@pytest.mark.sqlite_only
def test_an_oversized_body_is_refused_before_synthesis(staff_client):
    response = staff_client.post(URL, json=speech(text="あ" * 300_000))
    assert response.status_code == 413
