"""Real browser (Debian's chromium): make voice files from Japanese text, check the <audio> source, build a
guidance from two files with the row editor, play the preview sequence, see it listed; deletion asks first and
is refused while used; bulk re-synthesis shows its progress bar to the end."""
import pytest
from playwright.sync_api import expect

from tests.support.pages import BROKEN_PIECES

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def create_voice_file(page, base, name, text):
    page.goto(base + "/guidance/voice-files/new")
    page.fill("input[name=name]", name)
    page.fill("textarea[name=text]", text)
    assert page.inner_text("[data-counter]") == f"{len(text)} / 500 文字"
    page.click("button[type=submit].primary", no_wait_after=True)
    page.wait_for_url(lambda url: "/new" not in url, timeout=120000)  # saving synthesises: slow the first time
    assert f"音声ファイル「{name}」を保存しました" in page.inner_text(".flash-success")
    return page.get_attribute("#current-audio", "src")


def test_voice_files_and_guidance_in_a_real_browser(page, live_server, browser_login):
    base = live_server.url
    browser_login(page, "staff")
    first_src = create_voice_file(page, base, "挨拶", "お電話ありがとうございます。")
    response = page.request.get(base + first_src)
    assert response.status == 200
    assert response.headers["content-type"] == "audio/wav"
    assert response.body()[:4] == b"RIFF"
    # The browser itself decodes the file: it knows its duration.
    # A function, not a bare expression: that one is eval'd, which the pages' Content-Security-Policy forbids.
    page.wait_for_function("() => document.querySelector('#current-audio').readyState >= 1")
    assert 1.0 < page.evaluate("document.querySelector('#current-audio').duration") < 4.0
    second_src = create_voice_file(page, base, "メニュー", "ご用件の番号を押してください。")

    page.goto(base + "/guidance/guidances/new")
    page.select_option("select[name=kind]", label="振り分けガイダンス【PB】")
    page.fill("input[name=name]", "代表番号の振り分け")
    page.check("input[name=synthesized]")
    page.select_option("[data-row] select >> nth=0", label="挨拶")
    page.click("[data-add-row]")
    page.select_option("[data-row] select >> nth=1", label="メニュー")
    page.click("[data-row] >> nth=1 >> [data-move=up]")  # メニュー first, then 挨拶
    # The preview plays the whole sequence in order (sped up: each file still has to play to its end).
    page.evaluate("document.getElementById('preview-player').defaultPlaybackRate = 4")
    # Each file's 'ended' (headless chromium may skip 'playing' for a short file); this listener runs before
    # the page's own onended, which moves on to the next file.
    page.evaluate("""window.played = []; document.getElementById('preview-player')
        .addEventListener('ended', e => window.played.push(new URL(e.target.src).pathname))""")
    page.click("[data-preview]")
    page.wait_for_function("() => document.querySelector('[data-preview-status]').textContent === '再生が終わりました。'")
    assert page.evaluate("window.played") == [second_src, first_src]
    page.click("button[type=submit].primary")
    page.wait_for_url(base + "/guidance/guidances")

    row = page.locator("table.guidances tbody tr", has_text="代表番号の振り分け")
    assert row.locator("td").first.inner_text() == "振り分けガイダンス【PB】"
    assert row.locator("ol.sequence li").all_inner_texts() == ["メニュー", "挨拶"]
    row.locator("[data-play-sequence]").click()
    page.wait_for_function(f"() => document.getElementById('preview-player').src.endsWith('{second_src}')")
    assert first_src != second_src

    delete_used_voice_file_is_confirmed_then_refused(page, base)
    bulk_resynthesis_shows_progress_to_the_end(page, base)


def delete_used_voice_file_is_confirmed_then_refused(page, base):
    page.goto(base + "/guidance/voice-files")
    row = page.locator("table.voice-files tbody tr", has_text="ご用件の番号を押してください")
    assert "代表番号の振り分け" in row.inner_text() and "振り分けガイダンス【PB】" in row.inner_text()
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    row.locator("button", has_text="削除").click()
    assert dialogs == ["音声ファイル「メニュー」を削除しますか？"]
    assert page.locator(".flash").count() == 0  # dismissed: nothing was posted
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button", has_text="削除").click()
    page.wait_for_load_state()
    assert "オリジナルガイダンス 「代表番号の振り分け」 で使われているため削除できません" in page.inner_text(".flash-error")
    assert page.locator("table.voice-files tbody tr").count() == 2


def bulk_resynthesis_shows_progress_to_the_end(page, base):
    page.goto(base + "/guidance/voice-files")
    page.check("#check-all")
    page.fill("#bulk-form input[name=speed]", "1.3")
    page.click("#bulk-form button[type=submit]")
    # Nothing changes before the confirmation, which says how many files will.
    assert "2 件の音声ファイルを作り直します" in page.inner_text("#resynth-summary")
    assert page.locator("table.voice-files").count() == 0 and page.locator("[role=progressbar]").count() == 0
    assert page.locator("table.resynth-plan tbody tr", has_text="変わります").count() == 2
    assert page.evaluate(BROKEN_PIECES) == []  # each file's engine, voice, speed and volume read whole
    page.click("#resynth-confirm")
    page.wait_for_url("**/guidance/resynthesize/*")
    assert page.is_visible("[role=progressbar]")
    page.wait_for_function("() => document.querySelector('[data-status]').textContent === '完了しました。'", timeout=30000)
    assert page.get_attribute("[role=progressbar]", "aria-valuenow") == "100"
    assert page.inner_text("[data-count]") == "2" and page.inner_text("[data-failed]") == "0"
    page.goto(base + "/guidance/voice-files")
    assert page.locator("table.voice-files tbody tr", has_text="速さ 1.3").count() == 2


def test_bad_input_shows_japanese_errors_in_the_browser(page, live_server, browser_login):
    base = live_server.url
    browser_login(page, "staff")
    page.goto(base + "/guidance/voice-files/new")
    page.fill("input[name=name]", "長すぎる案内")
    page.fill("textarea[name=text]", "あ" * 501)
    assert "over" in page.get_attribute("[data-counter]", "class")
    page.click("button[type=submit].primary")
    assert "ガイダンス内容は 500 文字以内にしてください（現在 501 文字）。" in page.inner_text(".flash-error")
    assert page.input_value("input[name=name]") == "長すぎる案内"
    assert page.input_value("textarea[name=text]") == "あ" * 501
    page.wait_for_load_state("load")  # the choice toggle is bound by guidance.js, which runs after the flash is parsed
    page.check("input[name=source][value=upload]")
    expect(page.locator("input[name=upload]")).to_be_visible()
    expect(page.locator("select[name=engine]")).to_be_hidden()


def test_a_recording_over_the_limit_is_refused_before_it_is_sent(page, live_server, browser_login):
    base = live_server.url
    browser_login(page, "staff")
    page.goto(base + "/guidance/voice-files/new")
    page.fill("input[name=name]", "大きすぎる録音")
    page.check("input[name=source][value=upload]")
    limit = int(page.get_attribute("input[name=upload]", "data-max-bytes"))
    assert limit == 10 * 1024 * 1024  # guidance.max_upload_mb
    page.set_input_files("input[name=upload]", files=[{"name": "big.wav", "mimeType": "audio/wav",
                                                       "buffer": b"\0" * (limit + 1)}])
    message = page.eval_on_selector("input[name=upload]", "el => el.validationMessage")
    assert message == "ファイル「big.wav」は 10.1 MB あります。10 MB 以下のファイルを選んでください。"
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("button[type=submit].primary")  # waits for a navigation it starts: there must be none
    assert posts == [] and page.url == base + "/guidance/voice-files/new"
    assert page.locator(".flash-error").count() == 0
    assert page.input_value("input[name=name]") == "大きすぎる録音"

    page.set_input_files("input[name=upload]", files=[{"name": "small.wav", "mimeType": "audio/wav",
                                                       "buffer": b"RIFF"}])
    assert page.eval_on_selector("input[name=upload]", "el => el.validationMessage") == ""


def test_a_text_is_heard_before_it_is_saved(page, live_server, browser_login):
    from guidance.models import VoiceFile

    base = live_server.url
    browser_login(page, "staff")
    page.goto(base + "/guidance/voice-files/new")
    page.fill("input[name=name]", "営業時間のご案内")
    page.fill("textarea[name=text]", "営業時間は、平日の午前九時から午後六時までです。")
    player = page.locator("[data-listen] audio")
    expect(player).to_be_hidden()
    page.click("[data-listen-button]")
    # The browser decodes what came back and plays it: a duration, then the playhead moving.
    page.wait_for_function("() => { const a = document.querySelector('[data-listen] audio');"
                           " return a.duration > 0 && a.currentTime > 0; }", timeout=20000)
    assert 2.0 < player.evaluate("a => a.duration") < 10.0
    assert player.evaluate("a => a.src").startswith("blob:")
    assert "まだ保存されていません" in page.inner_text("[data-listen-status]")
    assert page.url == base + "/guidance/voice-files/new"
    assert page.input_value("input[name=name]") == "営業時間のご案内"
    with live_server.app.app_context():
        assert VoiceFile.select().count() == 0

    page.fill("textarea[name=text]", "")
    page.click("[data-listen-button]")
    expect(page.locator("[data-listen-status]")).to_have_text("ガイダンス内容を入力してください。")
    expect(page.locator("[data-listen-status]")).to_have_class("hint field-error")
