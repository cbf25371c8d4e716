"""Real browser: the detail page follows a send as it finishes (state, buttons and rows change without a reload),
and 差し込み from a CSV's 氏名 column, with a name an SMS cannot carry refused for its row only."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.bulk.conftest import numbers
from tests.support.pages import engineering_words


@pytest.fixture
def app_config(app_config):
    return {**app_config, "bulk.poll_seconds": 1, "sms.dispatch_interval_seconds": 1, "sms.mps_limit": 0}


NOT_RELOADED = "() => window.bulkPageMarker === 'still-the-same-page'"


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_the_detail_page_follows_the_send_as_it_finishes(page, live_server, browser_login, scheduler, clock):
    from core.db import database
    from sms.bulk import sends
    from sms.bulk.recipients import parse_pasted

    with live_server.app.app_context(), database.connection_context():
        draft = sends.create_draft(sends.build_recipients(parse_pasted("\n".join(numbers(3)))), source="paste",
                                   actor="tester")
        form, _ = sends.read_message_form(["本日のお知らせです。"], [None], schedule=True,
                                          scheduled_text="2026-01-05T10:30")
        send = sends.confirm(draft.id, form, "tester")

    browser_login(page, "manager")
    page.goto(f"{live_server.url}/bulk/{send.id}")
    expect(page.locator("#bulk-status")).to_have_text("配信予約")
    expect(page.locator("#bulk-actions button:has-text('配信を取り消す')")).to_have_count(1)
    expect(page.locator("#bulk-actions a:has-text('編集')")).to_have_count(1)
    expect(page.locator("#bulk-recipients tbody .badge")).to_have_text(["送信待ち"] * 3)
    page.evaluate("() => { window.bulkPageMarker = 'still-the-same-page'; }")

    clock.set("2026-01-05 10:30")  # due: the scheduler starts it, the dispatcher hands every message over
    expect(page.locator("#bulk-status")).to_have_text("配信完了", timeout=20000)
    expect(page.locator("#bulk-actions button:has-text('配信を取り消す')")).to_have_count(0)
    expect(page.locator("#bulk-actions a:has-text('編集')")).to_have_count(0)
    expect(page.locator("#bulk-recipients tbody .badge")).to_have_text(["配信中"] * 3)
    assert "送信待ち" not in page.locator("#bulk-recipients").inner_text()
    assert page.evaluate(NOT_RELOADED)

    clock.advance(seconds=10)  # the simulated carrier's receipts come due
    expect(page.locator("#bulk-recipients tbody .badge")).to_have_text(["送達"] * 3, timeout=20000)
    expect(page.locator("[data-field=delivered]")).to_have_text("3")
    assert page.evaluate(NOT_RELOADED)
    assert engineering_words(page, "manager") == []


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_merge_fields_with_a_name_outside_iso_2022_jp_refused_for_that_row_only(page, live_server, browser_login,
                                                                               scheduler, clock):
    people = numbers(3)
    names = ["山田", "𠮷田", "佐藤"]  # 𠮷 (U+20BB7) is outside JIS X 0208
    csv = "氏名,携帯電話番号\r\n" + "".join(f"{n},{p}\r\n" for n, p in zip(names, people))
    browser_login(page, "manager")
    page.goto(live_server.url + "/bulk/new")
    page.set_input_files("input[name=csv_file]", files=[{"name": "会員.csv", "mimeType": "text/csv",
                                                           "buffer": csv.encode("utf-8")}])
    page.click("button:has-text('⇒以下の電話番号に配信するメッセージを作成')")
    page.wait_for_selector("text=配信先 3 名。")
    expect(page.locator("code.merge-field")).to_have_text(["{氏名}"])
    page.fill(".message-field >> nth=0 >> textarea", "{氏名}様、ご来店ありがとうございました。")
    page.click("button:has-text('⇒確認する')")

    page.wait_for_selector("text=メッセージの作成確認")
    expect(page.locator(".sms-sample")).to_have_text(["山田様、ご来店ありがとうございました。"])
    refusals = page.locator("#merge-refusals tbody tr")
    expect(refusals).to_have_count(1)
    assert people[1] in refusals.inner_text() and "「𠮷」" in refusals.inner_text()
    expect(page.locator("#message-total")).to_have_text("2")
    page.click("button:has-text('⇒配信する')")

    page.wait_for_selector("text=の配信を開始しました（配信先 3 名）")
    badges = page.locator("#bulk-recipients tbody tr")
    expect(badges.nth(1)).to_contain_text("送信できない内容")
    expect(badges.nth(0).locator(".badge")).not_to_have_text("送信待ち", timeout=20000)
    expect(badges.nth(2).locator(".badge")).not_to_have_text("送信待ち", timeout=20000)
    with live_server.app.app_context():
        from core.db import database
        from sms.models import Message

        with database.connection_context():
            bodies = sorted(m.body for m in Message.select())
    assert bodies == ["佐藤様、ご来店ありがとうございました。", "山田様、ご来店ありがとうございました。"]
