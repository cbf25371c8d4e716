"""The call simulator in a real browser: it calls flows through the signed webhooks and follows the TwiML."""
import re
from urllib.parse import urlsplit

import pytest

from ivr.models import Call
from tests.ivr.conftest import FLOW_NUMBER

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def demo(app, demo_guidance, live_server):
    """First-start data in the live server's database: storage box 1 and the demo flow; audio path per guidance."""
    import ivr
    import sms
    from guidance.public import playlist

    sms.seed_defaults(app)
    ivr.seed_defaults(app)
    return {key: urlsplit(playlist(gid)[0].url).path for key, gid in demo_guidance.items()}


def played(page, audio_path):
    return page.locator(f"#sim-log li.sim-play[data-url$='{audio_path}']")


def key(page, digit):
    return page.locator(f"#sim-keypad button[data-key='{digit}']:not([disabled])")


def test_simulator_calls_the_demo_flow_wrong_key_then_1_sends_the_sms(page, live_server, browser_login, demo):
    browser_login(page, "staff")
    page.goto(live_server.url + "/ivr/simulator")
    assert page.locator("#sim-to option").first.inner_text().startswith("050-0000-0000")
    page.fill("#sim-from", "090-1234-5678")
    page.click("#sim-call")

    # The greeting plays, then the menu's <Gather> opens the keypad; a wrong key barges into the menu guidance.
    played(page, demo["greeting"]).wait_for()
    key(page, "9").wait_for(timeout=15000)
    page.click("#sim-keypad button[data-key='9']")

    mis_entry = played(page, demo["mis_entry"])
    mis_entry.wait_for()
    assert "入力が間違っています" in mis_entry.inner_text()
    key(page, "1").wait_for()
    page.click("#sim-keypad button[data-key='1']")

    sms = page.locator("#sim-sms .sim-sms-item")
    sms.wait_for()
    assert "090-1234-5678" in sms.inner_text() and "お問い合わせの詳細" in sms.inner_text()
    played(page, demo["sent"]).wait_for()
    page.locator("#sim-outcome", has_text="完了").wait_for()
    assert page.locator("#sim-events tr.ev-mis_entry").count() == 1
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)  # the flow hangs up after 「sent」

    call = Call.get(Call.call_sid == page.locator("#simulator").get_attribute("data-call-sid"))
    assert (call.simulated, call.outcome, call.from_number) == (True, "completed", "+819012345678")
    assert call.ended_at is not None

    # The log tells what happened in words, as staff would say it (no addresses, requests or TwiML).
    log = page.locator("#sim-log li").all_inner_texts()
    assert log[0] == "090-1234-5678 から " + page.locator("#sim-to option").first.inner_text() + " に発信しました"
    assert any(line.startswith("ガイダンス『") and line.endswith("』を再生") for line in log)
    assert "ボタンの入力を待っています（1 桁・5 秒）" in log
    assert [line for line in log if line.endswith("を押しました")] == ["9 を押しました", "1 を押しました"]
    assert log[-1] == "切断しました"
    assert not [line for line in log if re.search(r"/twilio|https?:|<|Digits|TwiML|Hangup", line)]
    assert re.search(r"（蓄積BOX 1・(送信待ち|配信中|送達)）", sms.inner_text())


def test_hanging_up_in_the_simulator_records_abandonment(page, live_server, browser_login, menu_flow_saved):
    browser_login(page, "staff")
    page.goto(live_server.url + f"/ivr/simulator?to={FLOW_NUMBER.replace('+', '%2B')}")
    page.check("#sim-withheld")
    page.click("#sim-call")
    key(page, "1").wait_for(timeout=15000)
    page.locator("#sim-log li.sim-timeout").wait_for(timeout=20000)  # the menu's 5 s pass without a key
    assert page.locator("#sim-log li.sim-timeout").inner_text() == "入力がありませんでした（タイムアウト・5 秒）"
    assert page.locator("#sim-log li.sim-call").inner_text().startswith("非通知 から ")
    page.click("#sim-hangup")
    page.locator("#sim-outcome", has_text="途中放棄").wait_for()
    call = Call.get(Call.call_sid == page.locator("#simulator").get_attribute("data-call-sid"))
    assert (call.outcome, call.abandoned_node_key, call.from_number) == ("abandoned", "main", "anonymous")
    assert page.locator("#sim-log li.sim-end").inner_text() == "発信者が電話を切りました"


def test_the_call_record_gives_its_content_column_room_at_1280(page, live_server, browser_login, menu_flow_saved):
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(page, "staff")
    page.goto(live_server.url + f"/ivr/simulator?to={FLOW_NUMBER.replace('+', '%2B')}")
    page.click("#sim-call")
    key(page, "1").wait_for(timeout=15000)
    page.click("#sim-keypad button[data-key='2']")  # 2 transfers: the number is shown as staff write it
    page.locator("#sim-dial:not([hidden])").wait_for()
    assert page.inner_text("#sim-dial-number") == "03-1234-5678"
    page.locator("#sim-log li.sim-dial", has_text="03-1234-5678 に転送しています").wait_for()
    page.click("#sim-dial button[data-dial='no-answer']")
    page.locator("#sim-log li.sim-dial", has_text="転送先が応答しませんでした").wait_for()
    page.locator("#sim-events tr.ev-transfer", has_text="応答なし").wait_for()
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)  # 混雑, 終話, then the flow hangs up

    record = page.locator("#sim-events")
    content = page.locator(".sim-record-panel thead th", has_text="内容")
    assert content.evaluate("th => th.getBoundingClientRect().width") > 20 * 14  # 20 characters and more
    details = record.locator("td.detail").all()
    assert "転送発信: 03-1234-5678" in [cell.inner_text() for cell in details]
    one_line = """el => { const r = document.createRange(); r.selectNodeContents(el);
        return new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top))).size <= 1; }"""
    assert [cell.inner_text() for cell in record.locator("td.nowrap").all() if not cell.evaluate(one_line)] == []
    assert [cell.inner_text() for cell in details if len(cell.inner_text()) < 25 and not cell.evaluate(one_line)] == []
    panel = page.locator(".sim-record-panel")
    assert panel.evaluate("p => p.scrollWidth <= p.clientWidth")  # no sideways scrolling at 1280
