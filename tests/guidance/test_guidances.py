"""オリジナルガイダンス登録 and guidance.public: ordered voice files, kinds, playlists, ready-made guidance."""
import pytest

from core.models import AuditLog
from guidance import public, usage
from guidance.models import Guidance, GuidanceItem, VoiceFile


@pytest.fixture
def two_files(make_voice_file):
    first = make_voice_file("挨拶", "こんにちは。")
    second = make_voice_file("メニュー", "番号をどうぞ。")
    return first, second


@pytest.fixture(autouse=True)
def no_usage_finders(monkeypatch):
    monkeypatch.setattr(usage, "_usage_finders", [])


def guidance_form(ids, **overrides):
    data = {"kind": "pb", "name": "代表番号の振り分け", "synthesized": "1", "voice_file_ids": [str(i) for i in ids]}
    data.update(overrides)
    return data


def test_guidance_is_built_from_voice_files_in_the_given_order(staff_client, two_files):
    first, second = two_files
    response = staff_client.post("/guidance/guidances/new", data=guidance_form([second.id, first.id, second.id]))
    assert response.status_code == 302
    guidance = Guidance.get(Guidance.name == "代表番号の振り分け")
    assert (guidance.kind, guidance.synthesized, guidance.kind_label) == ("pb", True, "振り分けガイダンス【PB】")
    assert [i.voice_file.name for i in guidance.ordered_items()] == ["メニュー", "挨拶", "メニュー"]
    page = staff_client.get("/guidance/guidances").get_data(as_text=True)
    assert "代表番号の振り分け" in page and "振り分けガイダンス【PB】" in page
    assert f'/audio/{second.audio_hash}.wav", "/audio/{first.audio_hash}.wav"' in page  # preview sequence
    detail = AuditLog.get(AuditLog.action == "guidance.created").detail
    assert '"voice_files": ["メニュー", "挨拶", "メニュー"]' in detail


def test_editing_reorders_and_renames(staff_client, two_files):
    first, second = two_files
    staff_client.post("/guidance/guidances/new", data=guidance_form([first.id, second.id]))
    guidance = Guidance.get()
    response = staff_client.post(f"/guidance/guidances/{guidance.id}",
                                 data=guidance_form([second.id], name="時間外案内", kind="out_of_hours"))
    assert response.status_code == 302
    edited = Guidance.get_by_id(guidance.id)
    assert (edited.name, edited.kind) == ("時間外案内", "out_of_hours")
    assert [i.voice_file_id for i in edited.ordered_items()] == [second.id]
    assert GuidanceItem.select().count() == 1
    entry = AuditLog.get(AuditLog.action == "guidance.updated")
    assert entry.target == "時間外案内" and entry.actor == "staff1" and '"kind": "out_of_hours"' in entry.detail


@pytest.mark.sqlite_only
def test_form_offers_every_kind_by_its_japanese_label(staff_client):
    from guidance.models import KINDS

    page = staff_client.get("/guidance/guidances/new").get_data(as_text=True)
    for value, label in KINDS.items():
        assert f'<option value="{value}"' in page and f">{label}</option>" in page
    assert 'name="synthesized" value="1"' in page and "音声合成ガイダンス" in page


@pytest.mark.sqlite_only
def test_edit_page_shows_the_chosen_files_in_order(staff_client, two_files):
    first, second = two_files
    staff_client.post("/guidance/guidances/new", data=guidance_form([second.id, first.id]))
    page = staff_client.get(f"/guidance/guidances/{Guidance.get().id}").get_data(as_text=True)
    chosen = [line for line in page.splitlines() if " selected>" in line and "data-source" in line]
    assert ["メニュー" in chosen[0], "挨拶" in chosen[1]] == [True, True]


@pytest.mark.sqlite_only
@pytest.mark.parametrize("overrides, message", [
    ({"name": ""}, "オリジナルガイダンス名を入力してください。"),
    ({"kind": "unknown"}, "オリジナルガイダンスの種類を選んでください。"),
    ({"voice_file_ids": [""]}, "再生する音声ファイルを 1 つ以上選んでください。"),
    ({"voice_file_ids": ["99999"]}, "選んだ音声ファイルの一部が見つかりません"),
])
def test_bad_guidance_input_is_refused_keeping_the_input(staff_client, two_files, overrides, message):
    response = staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id], **overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    if overrides.get("name", "x"):
        assert 'value="代表番号の振り分け"' in page
    assert Guidance.select().count() == 0 and GuidanceItem.select().count() == 0


def test_synthesized_guidance_refuses_recorded_files(staff_client, two_files, make_recording):
    import io

    staff_client.post("/guidance/voice-files/new", content_type="multipart/form-data", data={
        "name": "録音", "source": "upload", "text": "", "upload": (io.BytesIO(make_recording()), "r.wav")})
    recorded = VoiceFile.get(VoiceFile.name == "録音")
    response = staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id, recorded.id]))
    assert response.status_code == 400
    assert "録音ファイル 「録音」 を外すか" in response.get_data(as_text=True)
    allowed = staff_client.post("/guidance/guidances/new",
                                data=guidance_form([two_files[0].id, recorded.id], synthesized=""))
    assert allowed.status_code == 302
    assert Guidance.get().synthesized is False


@pytest.mark.sqlite_only
def test_duplicate_guidance_name_is_refused(staff_client, two_files):
    staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id]))
    response = staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[1].id]))
    assert response.status_code == 400
    assert "オリジナルガイダンス名「代表番号の振り分け」は既に使われています" in response.get_data(as_text=True)


@pytest.mark.sqlite_only
def test_list_filters_by_kind_and_name(staff_client, two_files):
    staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id]), follow_redirects=True)
    staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[1].id], name="タイムアウト", kind="timeout"),
                      follow_redirects=True)
    by_kind = staff_client.get("/guidance/guidances?kind=timeout").get_data(as_text=True)
    assert "タイムアウト" in by_kind and "代表番号の振り分け" not in by_kind
    by_name = staff_client.get("/guidance/guidances?q=代表").get_data(as_text=True)
    assert "代表番号の振り分け" in by_name and ">タイムアウト<" not in by_name


def test_guidance_in_use_is_not_deleted_and_the_user_is_named(staff_client, two_files):
    staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id]))
    guidance = Guidance.get()
    public.register_usage_finder(lambda gid: ["コールフロー「代表番号」のメニュー「受付」"] if gid == guidance.id else [])
    response = staff_client.post(f"/guidance/guidances/{guidance.id}/delete", follow_redirects=True)
    assert "コールフロー「代表番号」のメニュー「受付」" in response.get_data(as_text=True)
    assert Guidance.select().count() == 1


def test_unused_guidance_is_deleted_and_its_files_kept(staff_client, two_files):
    staff_client.post("/guidance/guidances/new", data=guidance_form([two_files[0].id]))
    guidance = Guidance.get()
    assert staff_client.post(f"/guidance/guidances/{guidance.id}/delete").status_code == 302
    assert Guidance.select().count() == 0 and GuidanceItem.select().count() == 0
    assert VoiceFile.select().count() == 2
    assert AuditLog.get(AuditLog.action == "guidance.deleted").target == "代表番号の振り分け"


# --- guidance.public ----------------------------------------------------------------------------------------
def test_playlist_gives_absolute_urls_in_order(app, staff_client, two_files):
    first, second = two_files
    staff_client.post("/guidance/guidances/new", data=guidance_form([second.id, first.id]))
    items = public.playlist(Guidance.get().id)
    assert [(item.url, item.text) for item in items] == [
        (f"http://localhost/audio/{second.audio_hash}.wav", "番号をどうぞ。"),
        (f"http://localhost/audio/{first.audio_hash}.wav", "こんにちは。"),
    ]
    assert [item.seconds for item in items] == [second.duration_ms / 1000, first.duration_ms / 1000]
    assert all(item.seconds > 0.5 for item in items)  # the audio's length, for the call timelines
    assert staff_client.get(items[0].url.replace("http://localhost", "")).mimetype == "audio/wav"


def test_playlist_of_a_file_without_audio_falls_back_to_text(app):
    vf = VoiceFile.create(name="未合成", text="ただいま準備中です。")
    guidance = Guidance.create(name="準備中", kind="other")
    GuidanceItem.create(guidance=guidance, voice_file=vf, position=1)
    assert public.playlist(guidance.id) == [public.PlayItem(None, "ただいま準備中です。")]
    assert public.playlist(987654) == []


def test_guidance_choices_lists_all_or_one_kind(app, two_files):
    from guidance.forms import GuidanceInput
    from guidance.service import save_guidance

    pb = save_guidance(None, GuidanceInput("振り分け", "pb", True, [two_files[0].id]))
    timeout = save_guidance(None, GuidanceInput("無入力", "timeout", True, [two_files[1].id]))
    assert public.guidance_choices("timeout") == [(timeout.id, "無入力（入力タイムアウト時ガイダンス）")]
    assert set(public.guidance_choices()) == {(pb.id, "振り分け（振り分けガイダンス【PB】）"),
                                              (timeout.id, "無入力（入力タイムアウト時ガイダンス）")}


def test_ensure_guidance_synthesizes_once_and_is_idempotent(app, stored_audio):
    from tests.support.wav import read_wav_info

    first = public.ensure_guidance("SMS送信完了", "sms_sent", "ショートメッセージを送信しました。")
    again = public.ensure_guidance("SMS送信完了", "sms_sent", "ショートメッセージを送信しました。")
    assert first == again
    assert Guidance.select().count() == 1 and VoiceFile.select().count() == 1
    [item] = public.playlist(first)
    assert item.text == "ショートメッセージを送信しました。"
    audio_hash = item.url.rsplit("/", 1)[1].removesuffix(".wav")
    assert read_wav_info(stored_audio(audio_hash)).rate == 8000


def test_ensure_guidance_does_not_take_over_a_voice_file_with_other_text(app, make_voice_file):
    make_voice_file("終話", "ご利用ありがとうございました。")
    gid = public.ensure_guidance("終話", "closing", "お電話ありがとうございました。")
    [item] = public.playlist(gid)
    assert item.text == "お電話ありがとうございました。"
    assert VoiceFile.get(VoiceFile.name == "終話").text == "ご利用ありがとうございました。"
    assert VoiceFile.select().where(VoiceFile.name == "終話 (2)").exists()


@pytest.mark.sqlite_only
def test_ensure_guidance_rejects_an_unknown_kind(app):
    with pytest.raises(ValueError):
        public.ensure_guidance("x", "not-a-kind", "テスト")


def test_seed_makes_the_two_ready_made_guidances_of_seed_004_once(app):
    import guidance

    guidance.seed_defaults(app)
    guidance.seed_defaults(app)
    rows = {g.name: g for g in Guidance.select()}
    assert set(rows) == {"入力タイムアウト時", "入力ミス時"}
    assert rows["入力タイムアウト時"].kind == "timeout" and rows["入力ミス時"].kind == "mis_entry"
    texts = {g.name: [p.text for p in public.playlist(g.id)] for g in rows.values()}
    assert texts == {"入力タイムアウト時": ["入力が確認できません。案内をお聞きいただきもう一度入力してください。"],
                     "入力ミス時": ["入力が間違っています。案内をお聞きいただきもう一度入力してください。"]}
    assert all(p.url for g in rows.values() for p in public.playlist(g.id))
    assert AuditLog.select().where(AuditLog.action == "guidance.created").count() == 2
