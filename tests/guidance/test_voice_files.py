"""音声ファイル作成: create, edit (re-synthesizes), upload, search, delete; bad input loses nothing."""
import io

import pytest

from core.models import AuditLog
from guidance.models import VoiceFile
from guidance.service import audio_directory
from tests.support.wav import read_wav_info

GREETING = "お電話ありがとうございます。"


def stored_files() -> list[str]:
    directory = audio_directory()
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def form(**overrides):
    data = {"name": "挨拶", "source": "tts", "text": GREETING, "engine": "openjtalk", "voice": "mei_normal",
            "speed": "1.0", "volume": "1.0"}
    data.update(overrides)
    return data


def test_new_voice_file_is_synthesized_on_save_and_playable(staff_client, stored_audio):
    response = staff_client.post("/guidance/voice-files/new", data=form())
    assert response.status_code == 302
    vf = VoiceFile.get(VoiceFile.name == "挨拶")
    assert (vf.source, vf.engine, vf.voice, vf.text) == ("tts", "openjtalk", "mei_normal", GREETING)
    info = read_wav_info(stored_audio(vf.audio_hash))
    assert (info.rate, info.channels, info.bits) == (8000, 1, 16)
    assert 1000 < vf.duration_ms < 5000 and abs(info.seconds * 1000 - vf.duration_ms) < 2
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'src="/audio/{vf.audio_hash}.wav"' in page
    assert "を保存しました" in page
    entry = AuditLog.get(AuditLog.action == "voice_file.created")
    assert entry.target == "挨拶" and entry.actor == "staff1" and vf.audio_hash in entry.detail


@pytest.mark.sqlite_only
def test_list_shows_player_and_search_finds_by_name_and_text(staff_client, make_voice_file):
    make_voice_file("挨拶", "お電話ありがとうございます。")
    make_voice_file("営業時間外", "本日の営業は終了しました。")
    page = staff_client.get("/guidance/voice-files").get_data(as_text=True)
    assert page.count("<audio controls") == 2
    assert "&nbsp;秒</td>" in page and "nbsp;秒</td>nbsp" not in page
    found = staff_client.get("/guidance/voice-files?q=営業").get_data(as_text=True)
    assert "営業時間外" in found and ">挨拶<" not in found
    by_text = staff_client.get("/guidance/voice-files?q=ありがとう").get_data(as_text=True)
    assert ">挨拶<" in by_text and "営業時間外" not in by_text


@pytest.mark.sqlite_only
def test_list_is_paginated(app, staff_client, make_voice_file):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.replace(**{"web.page_size": 5})
    for n in range(7):
        make_voice_file(f"案内{n:02d}", "ご利用ありがとうございます。")  # one synthesis, reused six times
    first = staff_client.get("/guidance/voice-files").get_data(as_text=True)
    second = staff_client.get("/guidance/voice-files?page=2").get_data(as_text=True)
    assert "案内04" in first and "案内05" not in first
    assert "案内05" in second and "案内06" in second and "7 件中 6〜7 件" in second
    assert len({vf.audio_hash for vf in VoiceFile.select()}) == 1


def test_editing_the_text_re_synthesizes(staff_client, make_voice_file):
    vf = make_voice_file("挨拶", "お電話ありがとうございます。")
    response = staff_client.post(f"/guidance/voice-files/{vf.id}",
                                 data=form(text="お電話ありがとうございます。ただいま混み合っております。"))
    assert response.status_code == 302
    edited = VoiceFile.get_by_id(vf.id)
    assert edited.audio_hash != vf.audio_hash and edited.duration_ms > vf.duration_ms
    assert AuditLog.select().where(AuditLog.action == "voice_file.updated").count() == 1


def test_saving_identical_text_and_settings_reuses_the_same_file(staff_client, make_voice_file):
    vf = make_voice_file("挨拶", GREETING)
    before = stored_files()
    staff_client.post(f"/guidance/voice-files/{vf.id}", data=form(name="挨拶（改名）"))
    staff_client.post("/guidance/voice-files/new", data=form(name="挨拶のコピー"))
    assert stored_files() == before
    assert {v.audio_hash for v in VoiceFile.select()} == {vf.audio_hash}


@pytest.mark.sqlite_only
def test_speed_change_gives_new_audio(staff_client, make_voice_file):
    vf = make_voice_file("挨拶", GREETING)
    staff_client.post(f"/guidance/voice-files/{vf.id}", data=form(speed="1.5"))
    faster = VoiceFile.get_by_id(vf.id)
    assert faster.speed == 1.5 and faster.duration_ms < vf.duration_ms * 0.8


@pytest.mark.sqlite_only
def test_english_voice_file_with_pyttsx3(staff_client, stored_audio):
    response = staff_client.post("/guidance/voice-files/new", data=form(
        name="English greeting", text="Thank you for calling.", engine="pyttsx3", voice="en-us"))
    assert response.status_code == 302
    vf = VoiceFile.get(VoiceFile.name == "English greeting")
    assert (vf.engine, vf.voice) == ("pyttsx3", "en-us")
    assert read_wav_info(stored_audio(vf.audio_hash)).rate == 8000


@pytest.mark.sqlite_only
@pytest.mark.parametrize("overrides, message", [
    ({"text": ""}, "ガイダンス内容を入力してください。"),
    ({"text": "   "}, "ガイダンス内容を入力してください。"),
    ({"text": "あ" * 501}, "ガイダンス内容は 500 文字以内にしてください（現在 501 文字）。"),
    ({"name": ""}, "作成ファイル名を入力してください。"),
    ({"name": "名" * 101}, "作成ファイル名は 100 文字以内にしてください"),
    ({"speed": "速く"}, "話す速さは 0.5〜2.0 の数値で入力してください。"),
    ({"speed": "5"}, "話す速さは 0.5〜2.0 の範囲で入力してください"),
    ({"volume": "-1"}, "音量は 0.0〜2.0 の範囲で入力してください"),
    ({"engine": "pyttsx3", "voice": "en"}, "日本語以外（espeak-ng）の音声合成は日本語（かな・漢字）を読めません"),
    ({"text": "。。。"}, "読み上げられる文字がありません"),
])
def test_bad_input_is_refused_in_japanese_keeping_the_input(staff_client, overrides, message):
    data = form(**overrides)
    response = staff_client.post("/guidance/voice-files/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if data["name"]:
        assert f'value="{data["name"]}"' in page
    if data["text"].strip():
        assert data["text"] in page
    assert VoiceFile.select().count() == 0
    assert stored_files() == []
    assert AuditLog.select().where(AuditLog.action.startswith("voice_file")).count() == 0


def test_duplicate_name_is_refused(staff_client, make_voice_file):
    make_voice_file("挨拶", "こんにちは。")
    response = staff_client.post("/guidance/voice-files/new", data=form(text="別の内容です。"))
    assert response.status_code == 400
    assert "作成ファイル名「挨拶」は既に使われています" in response.get_data(as_text=True)
    assert VoiceFile.select().count() == 1


@pytest.mark.sqlite_only
def test_missing_dictionary_is_explained_and_nothing_saved(app, staff_client):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = settings.replace(**{"guidance.openjtalk_dict_dir": "/nonexistent/naist-jdic"})
    response = staff_client.post("/guidance/voice-files/new", data=form())
    assert response.status_code == 400
    assert "open-jtalk-mecab-naist-jdic" in response.get_data(as_text=True)
    assert VoiceFile.select().count() == 0


# --- uploads ------------------------------------------------------------------------------------------------
def upload_form(data: bytes, filename: str, **overrides):
    fields = form(**{"source": "upload", "text": "録音した挨拶", **overrides})
    fields["upload"] = (io.BytesIO(data), filename)
    return fields


@pytest.mark.sqlite_only
@pytest.mark.parametrize("fmt, filename", [("WAV", "greeting.wav"), ("MP3", "greeting.mp3")])
def test_recorded_upload_is_converted_to_8khz_mono(staff_client, stored_audio, make_recording, fmt, filename):
    response = staff_client.post("/guidance/voice-files/new", data=upload_form(make_recording(fmt, 2.0), filename),
                                 content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    vf = VoiceFile.get(VoiceFile.name == "挨拶")
    assert (vf.source, vf.original_filename, vf.engine) == ("upload", filename, "")
    info = read_wav_info(stored_audio(vf.audio_hash))
    assert (info.rate, info.channels) == (8000, 1)
    assert 1.9 < info.seconds < 2.2


def test_upload_kept_when_only_the_name_is_edited(staff_client, make_recording):
    staff_client.post("/guidance/voice-files/new", data=upload_form(make_recording(), "a.wav"),
                      content_type="multipart/form-data")
    vf = VoiceFile.get(VoiceFile.name == "挨拶")
    response = staff_client.post(f"/guidance/voice-files/{vf.id}", data=form(name="録音の挨拶", source="upload",
                                                                             text="メモ"))
    assert response.status_code == 302
    edited = VoiceFile.get_by_id(vf.id)
    assert (edited.name, edited.audio_hash, edited.original_filename) == ("録音の挨拶", vf.audio_hash, "a.wav")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("data, filename, message", [
    (b"%PDF-1.4 this is a document, not a recording" * 10, "report.wav", "音声ファイルとして読み込めませんでした"),
    (b"hello", "notes.mp3", "音声ファイルとして読み込めませんでした"),
])
def test_upload_that_is_not_audio_is_refused(staff_client, data, filename, message):
    response = staff_client.post("/guidance/voice-files/new", data=upload_form(data, filename),
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'value="挨拶"' in page and "録音した挨拶" in page
    assert VoiceFile.select().count() == 0 and stored_files() == []


@pytest.mark.sqlite_only
def test_upload_with_too_long_text_is_refused_and_nothing_saved(staff_client, make_recording):
    response = staff_client.post("/guidance/voice-files/new", content_type="multipart/form-data",
                                 data=upload_form(make_recording(), "a.wav", text="あ" * 501))
    assert response.status_code == 400
    assert "ガイダンス内容は 500 文字以内にしてください（現在 501 文字）。" in response.get_data(as_text=True)
    assert VoiceFile.select().count() == 0 and stored_files() == []


@pytest.mark.sqlite_only
def test_upload_without_a_file_is_refused(staff_client):
    response = staff_client.post("/guidance/voice-files/new", data=form(source="upload"),
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    assert "録音ファイル（WAV または MP3）を選択してください" in response.get_data(as_text=True)


def test_50_mb_upload_is_refused_and_nothing_saved(staff_client):
    huge = b"RIFF" + b"\x00" * (50 * 1024 * 1024)
    response = staff_client.post("/guidance/voice-files/new", data=upload_form(huge, "huge.wav"),
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "アップロードするファイルが大きすぎます（50.0 MB）。10 MB 以下のファイルを選択してください。" in page
    assert VoiceFile.select().count() == 0 and stored_files() == []


# --- deletion -----------------------------------------------------------------------------------------------
def test_unused_voice_file_is_deleted(staff_client, make_voice_file):
    vf = make_voice_file()
    response = staff_client.post(f"/guidance/voice-files/{vf.id}/delete")
    assert response.status_code == 302
    assert VoiceFile.select().count() == 0
    assert AuditLog.get(AuditLog.action == "voice_file.deleted").target == vf.name


def test_list_names_the_guidance_using_each_file_with_its_kind(staff_client, make_voice_file):
    from guidance.forms import GuidanceInput
    from guidance.service import save_guidance

    used = make_voice_file("入力ミス", "入力が間違っています。")
    make_voice_file("未使用", "こんにちは。")
    save_guidance(None, GuidanceInput(name="受付のミス", kind="mis_entry", synthesized=True, voice_file_ids=[used.id]))
    page = staff_client.get("/guidance/voice-files").get_data(as_text=True)
    row = next(r for r in page.split("<tr>") if ">入力ミス<" in r)
    assert "受付のミス" in row and "入力ミス時ガイダンス" in row
    unused = next(r for r in page.split("<tr>") if ">未使用<" in r)
    assert "受付のミス" not in unused and "—" in unused
    edit = staff_client.get(f"/guidance/voice-files/{used.id}").get_data(as_text=True)
    assert "使用中のオリジナルガイダンス: <span class=\"badge\">受付のミス</span>（入力ミス時ガイダンス）" in edit


def test_voice_file_used_by_a_guidance_is_not_deleted(staff_client, make_voice_file):
    from guidance.forms import GuidanceInput
    from guidance.service import save_guidance

    vf = make_voice_file("挨拶")
    save_guidance(None, GuidanceInput(name="代表番号の振り分け", kind="pb", synthesized=True, voice_file_ids=[vf.id]))
    response = staff_client.post(f"/guidance/voice-files/{vf.id}/delete", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "音声ファイル「挨拶」はオリジナルガイダンス 「代表番号の振り分け」 で使われているため削除できません" in page
    assert VoiceFile.select().count() == 1
    assert not AuditLog.select().where(AuditLog.action == "voice_file.deleted").exists()


@pytest.mark.sqlite_only
def test_pages_need_a_login(client):
    response = client.get("/guidance/voice-files")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
