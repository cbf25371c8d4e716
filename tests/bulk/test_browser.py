"""A real browser: upload a CSV, add a second message, confirm, and watch the progress bar reach the end."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.bulk.conftest import numbers


@pytest.fixture
def app_config(app_config):
    return {**app_config, "bulk.poll_seconds": 1, "sms.dispatch_interval_seconds": 1, "sms.mps_limit": 0}


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_upload_csv_two_messages_confirm_and_watch_the_progress_bar(page, live_server, browser_login, scheduler,
                                                                    clock):
    people = numbers(5)
    csv = ("名前,携帯電話番号\r\n" + "".join(f"顧客{i},{n}\r\n" for i, n in enumerate(people)) + "重複,09010000000\r\n")
    browser_login(page, "manager")
    page.goto(live_server.url + "/bulk/")
    page.click("text=SMSメッセージ作成（一括配信）")
    page.set_input_files("input[name=csv_file]", files=[{"name": "顧客.csv", "mimeType": "text/csv",
                                                           "buffer": csv.encode("cp932")}])
    page.click("button:has-text('⇒以下の電話番号に配信するメッセージを作成')")

    page.wait_for_selector("text=配信先 5 名、重複 1 件。")
    page.fill(".message-field >> nth=0 >> textarea", "本日はご来店ありがとうございました。")
    counter = page.locator(".message-field >> nth=0 >> .counter")
    expect(counter).to_have_text("18 / 660 文字・1 通分")  # bulk.js has run: its buttons are bound too
    page.click("button:has-text('+入力欄を追加（最大2つまで）')")
    expect(page.locator("#add-message")).to_be_disabled()  # two is the maximum
    page.fill(".message-field >> nth=1 >> textarea", "次回使えるクーポンをお送りします。")
    page.click("button:has-text('⇒確認する')")

    page.wait_for_selector("text=メッセージの作成確認")
    expect(page.locator("#confirm-numbers li")).to_have_text(people)
    assert page.locator("#confirm-time").inner_text().startswith("即時配信")
    expect(page.locator(".confirm-message pre:not(.sms-sample)")).to_have_text([
        "本日はご来店ありがとうございました。", "次回使えるクーポンをお送りします。"])
    page.click("button:has-text('⇒配信する')")

    page.wait_for_selector("text=の配信を開始しました（配信先 5 名）")
    bar = page.locator(".bulk-bar")
    # A function, not a bare expression: that one is eval'd, which the pages' Content-Security-Policy forbids.
    page.wait_for_function("() => document.querySelector('.bulk-bar').getAttribute('aria-valuenow') === '100'",
                           timeout=20000)
    assert page.locator("[data-field=remaining]").inner_text() == "0"
    assert page.locator("[data-field=total]").inner_text() == "10"
    clock.advance(seconds=10)  # the simulated carrier's receipts come due
    page.wait_for_function("() => document.querySelector('[data-field=delivered]').textContent === '10'", timeout=20000)
    assert page.locator("#bulk-status").inner_text() == "配信完了"
    assert bar.locator(".seg-delivered").evaluate("el => el.style.width") == "100%"


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_cancelling_a_scheduled_send_asks_first(page, live_server, browser_login, clock):
    from core.db import database
    from sms.bulk import sends
    from sms.bulk.models import BulkSend
    from sms.bulk.recipients import parse_pasted

    with live_server.app.app_context(), database.connection_context():
        draft = sends.create_draft(sends.build_recipients(parse_pasted("\n".join(numbers(2)))), source="paste",
                                   actor="tester")
        form, _ = sends.read_message_form(["夕方のお知らせ"], [None], schedule=True, scheduled_text="2026-01-05T18:00")
        send = sends.confirm(draft.id, form, "tester")

    def status():
        with live_server.app.app_context(), database.connection_context():
            return BulkSend.get_by_id(send.id).status

    browser_login(page, "manager")
    page.goto(f"{live_server.url}/bulk/{send.id}")
    asked = []

    def answer(accept):
        def handle(dialog):
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return handle

    page.once("dialog", answer(False))
    page.click("button:has-text('配信を取り消す')")
    assert asked == [f"{send.label} を取り消しますか？（元に戻せません）"]
    assert page.url.endswith(f"/bulk/{send.id}") and status() == "scheduled"  # 「キャンセル」: nothing happens

    page.once("dialog", answer(True))
    page.click("button:has-text('配信を取り消す')")
    page.wait_for_selector(f"text={send.label} を取り消しました。")
    assert len(asked) == 2 and status() == "cancelled"
    assert page.locator("#bulk-status").inner_text() == "取消"
    expect(page.locator("button:has-text('配信を取り消す')")).to_have_count(0)
