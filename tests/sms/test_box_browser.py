"""The storage box editor in a real browser (Debian's chromium): the number and name cannot be changed, the
character count, parts and offending characters follow the typing, and a test SMS sent in simulator mode
shows up in the delivery log."""
import pytest
from playwright.sync_api import expect

from sms.models import Message, StorageBox
from sms.outbox import run_dispatch

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_edit_a_box_watch_the_count_then_test_send_and_find_it_in_the_log(page, live_server, browser_login, box,
                                                                           clock):
    browser_login(page, "manager")
    page.goto(live_server.url + "/sms/boxes/7")

    # 004: 蓄積BOX番号・蓄積BOX名は変更できません — shown, not editable, and not even posted.
    name = page.locator("#box-name")
    expect(name).to_have_value("来店予約")
    expect(name).not_to_be_editable()
    expect(page.locator("#box-number")).not_to_be_editable()
    name.focus()
    page.keyboard.type("乗っ取り")
    expect(name).to_have_value("来店予約")

    body = page.locator("#box-body")
    page.fill("#box-url", "")  # without a URL nothing is appended (R-25: tests/sms/test_url_line.py)
    body.fill("あ" * 70)
    expect(page.locator("#char-count")).to_have_text("70")
    expect(page.locator("#part-count")).to_have_text("1")
    body.press("End")
    body.press_sequentially("髙")
    expect(page.locator("#char-count")).to_have_text("71")
    expect(page.locator("#part-count")).to_have_text("2")
    expect(page.locator("#text-problems")).to_contain_text("「髙」(U+9AD9)")
    expect(body).to_have_attribute("aria-invalid", "true")

    page.fill("#box-url", "https://example.jp/reserve")
    body.fill("ご予約ありがとうございます。9:00～18:00 受付 {url}")
    expect(page.locator("#text-problems")).to_contain_text("保存時に置き換えます: ～→〜")
    expect(body).to_have_attribute("aria-invalid", "false")
    expect(page.locator("#text-problems .field-error")).to_have_count(0)
    url_length = len(live_server.url + "/s/") + 8
    expect(page.locator("#char-count")).to_have_text(str(len("ご予約ありがとうございます。9:00〜18:00 受付 ") + url_length))
    page.click("#box-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("蓄積BOX 7 を保存しました。")

    saved = StorageBox.get(StorageBox.number == 7)
    assert (saved.name, saved.body) == ("来店予約", "ご予約ありがとうございます。9:00〜18:00 受付 {url}")

    page.fill("#test-to", "090-1234-5678")
    page.click("#test-send button[type=submit]")
    expect(page.locator("body")).to_contain_text("090-1234-5678 宛にテスト送信しました（状態: 配信中）")

    page.goto(live_server.url + "/sms/log")
    row = page.locator("#log-table tbody tr", has_text="090-1234-5678")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("7 来店予約")
    expect(row).to_contain_text("ご予約ありがとうございます。9:00〜18:00 受付 http://127.0.0.1")  # truncated at 50
    expect(row).to_contain_text("配信中")
    expect(row).to_contain_text("管理画面")

    clock.advance(seconds=3)  # the simulator's receipt is due
    run_dispatch()
    page.reload()
    expect(page.locator("#log-table tbody tr", has_text="090-1234-5678")).to_contain_text("送達")
    message = Message.get()
    assert message.body.startswith("ご予約ありがとうございます。9:00〜18:00 受付 " + live_server.url + "/s/")
    assert (message.source, message.provider, message.status, message.created_by) == (
        "ui", "simulator", 2, "manager-browser")
