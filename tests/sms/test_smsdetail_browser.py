"""In a real browser (Debian's chromium): a box with a URL and no {url} shows the link on its own line in the
preview and counts it; a failed number in the delivery log opens 個別送信, prefilled, and sends it once."""
import pytest
from playwright.sync_api import expect

from sms.models import Message
from sms.outbox import run_dispatch
from sms.sending import queue_box

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_box_preview_counts_the_link_then_a_failed_number_is_sent_individually(page, live_server, browser_login,
                                                                              box, clock):
    browser_login(page, "manager")
    page.goto(live_server.url + "/sms/boxes/7")
    short = live_server.url + "/s/AbCd1234"
    body = page.locator("#box-body")
    body.fill("ご予約ありがとうございます。")
    expect(page.locator("#sms-preview")).to_have_text("ご予約ありがとうございます。\n" + short)
    expect(page.locator("#char-count")).to_have_text(str(14 + 1 + len(short)))
    expect(page.locator("#part-count")).to_have_text("1")
    body.fill("あ" * (70 - 1 - len(short)) + "い")  # the link line pushes it into a second part
    expect(page.locator("#char-count")).to_have_text("71")
    expect(page.locator("#part-count")).to_have_text("2")
    page.fill("#box-url", "")
    expect(page.locator("#sms-preview")).to_have_text("あ" * (70 - 1 - len(short)) + "い")
    expect(page.locator("#char-count")).to_have_text(str(70 - len(short)))
    body.fill("ご予約ありがとうございます。")
    page.fill("#box-url", "https://example.jp/reserve")
    expect(page.locator("#sms-preview")).to_contain_text(short)
    page.click("#box-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("蓄積BOX 7 を保存しました。")

    failed_id = queue_box(7, "090-9999-0005", source="ivr").message_id  # the simulator: 現在使われていない番号
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    assert Message.get_by_id(failed_id).status == 3

    page.goto(live_server.url + "/sms/log")
    row = page.locator("#log-table tbody tr", has_text="090-9999-0005")
    expect(row).to_contain_text("配信失敗")
    row.locator("a.resend-one").click()
    expect(page.locator("h1")).to_have_text("個別送信")
    expect(page.locator("#send-to")).to_have_value("090-9999-0005")
    expect(page.locator("#send-box")).to_have_value("7")
    expect(page.locator("#box-body")).to_have_value("ご予約ありがとうございます。")
    expect(page.locator("#sms-preview")).to_have_text("ご予約ありがとうございます。\n" + short)
    page.click("#send-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("090-9999-0005 宛に個別送信しました")
    expect(page.locator("h1")).to_contain_text("SMS の詳細")

    sent = list(Message.select().where(Message.to_number == "+819099990005").order_by(Message.id))
    assert len(sent) == 2
    assert (sent[1].source, sent[1].provider, sent[1].created_by) == ("ui", "simulator", "manager-browser")
    assert sent[1].body.startswith("ご予約ありがとうございます。\n" + live_server.url + "/s/")
