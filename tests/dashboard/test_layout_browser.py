"""Every page of the menu and the main pages behind it (forms, details, the simulator after a short call, settings,
the audit log with entries, an SMS's page), for each role, in a real browser at 1280 and 390 px: nothing wider than
the screen, no failed request (the favicon included), no engineering word in view for staff and managers, and at
1280 px no date, number, badge or button in a table broken over two lines; on a phone the side menu folds behind
a button."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from core import audit
from guidance.models import Guidance, VoiceFile
from ivr.models import Flow, Node, Voicemail
from sms.bulk.models import BulkSend
from sms.models import Message, Receipt, SendAttempt
from tests.ivr.conftest import FLOW_NUMBER
from tests.support.pages import BROKEN_PIECES, engineering_words, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

DESKTOP, PHONE = 1280, 390
FIRST_DAY, LAST_DAY = "2025-12-24", "2026-01-06"
LONG_TEXT = ("お電話ありがとうございます。ご予約の確認・変更は下記のURLから24時間いつでも承っております。"
             "{url} 配信停止はこちら {optout_url}")


@pytest.fixture
def filled(clock, menu_flow_saved, make_call, make_message):
    """A day of records on every list: calls of each outcome with their menu steps, SMS, a voicemail, bulk sends."""
    clock.set("2026-01-06 15:00")
    events = [("node", "main", "メインメニュー", ""), ("digit", "main", "メインメニュー", "1"),
              ("node", "sms", "SMS送信", "")]
    for minute, outcome in enumerate(["completed", "abandoned", "transferred", "voicemail", "error", None]):
        call = make_call(dt.datetime(2026, 1, 6, 10, minute), outcome=outcome, caller="+819012340000",
                         events=events, flow=menu_flow_saved)
        make_message(dt.datetime(2026, 1, 6, 10, minute, 30), call=call, clicks=minute % 2,
                     state=["delivered", "failed", "resend_wait"][minute % 3])
        if outcome == "voicemail":
            Voicemail.create(call=call, at=call.started_at, node_name="営業時間外の録音", seconds=42,
                             url="https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1")
    for day in range(1, 14):  # one call a day before: the report's daily table has rows to show
        make_call(dt.datetime(2026, 1, 6, 9, 0) - dt.timedelta(days=day), flow=menu_flow_saved, events=events)
    BulkSend.create(title="年始のご案内（全店舗・会員向け）", status="scheduled", immediate=False,
                    scheduled_at="2026-01-08 09:30", message1=LONG_TEXT, recipient_count=1200, slot_count=1200)
    BulkSend.create(title="配信中のお知らせ", status="running", scheduled_at="2026-01-06 14:00", message1=LONG_TEXT,
                    recipient_count=300, slot_count=300)
    for minute in range(40):  # a long SMS log: more rows than fit on a screen
        make_message(dt.datetime(2026, 1, 6, 11, minute), to=f"+8190999900{minute:02d}",
                     state=["delivered", "failed", "queued", "sending", "unknown"][minute % 5], source="bulk")
    sent_and_heard_back(Message.select().order_by(Message.id).first())
    audited_changes()
    return clock


def sent_and_heard_back(message: Message) -> None:
    """The provider's words on a message's page: an answer to the send, then receipts as Twilio posts them."""
    SendAttempt.create(message=message, seq=0, outcome="sent", provider_sid="SM" + "1" * 32, provider_status="queued",
                       sent_at=message.created_at)
    for status in ("sent", "delivered"):
        Receipt.create(provider_sid="SM" + "1" * 32, provider_status=status, message=message, applied=True)


def audited_changes() -> None:
    """Entries of the kinds staff make every day, with the details each package records."""
    audit.record("box.updated", "蓄積BOX 1", {"body": ["旧い本文", "新しい本文"]}, actor="staff1")
    audit.record("optout.added", "+819011112222", {"via": "link", "message_id": 1}, actor="recipient")
    audit.record("ivr.caller_rule.created", "+819012345678", {"action": "block", "flow_id": None, "node": "",
                                                              "note": "迷惑電話"}, actor="staff1")
    audit.record("account.updated", "manager1", {"display_name": "山田", "role": "manager", "active": True,
                                                "password": "reset"}, actor="admin1")
    audit.record("bulk.scheduled", "年始のご案内", {"recipients": 1200, "messages": 1, "tickets": 1200,
                                                 "scheduled_at": "2026-01-08 09:30", "by": "manager1"})


def failed_requests(page) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return failed


def menu_paths(page) -> list[str]:
    hrefs = page.locator("nav.sidemenu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return ["/", *hrefs]


def pages_behind_the_menu(role: str) -> list[str]:
    """Forms and detail pages the menu leads to, those this role may open."""
    flow = Flow.get(Flow.number == FLOW_NUMBER)
    menu = Node.get((Node.flow == flow.id) & (Node.kind == "menu"))
    paths = ["/guidance/voice-files/new", f"/guidance/voice-files/{VoiceFile.select().first().id}",
             "/guidance/guidances/new", f"/guidance/guidances/{Guidance.select().first().id}",
             "/ivr/flows/new", f"/ivr/flows/{flow.id}", f"/ivr/menus/{menu.id}", "/sms/boxes/new", "/sms/boxes/1",
             "/account/password"]
    if role != "staff":  # a customer's message is the delivery log's (sms.visibility)
        paths += [f"/sms/messages/{Message.select().order_by(Message.id).first().id}", "/bulk/new", f"/bulk/{BulkSend.select().first().id}", "/sms/log/monthly",
                  f"/reports/?mode=live&from={FIRST_DAY}&to={LAST_DAY}",
                  f"/reports/calls?mode=live&from={FIRST_DAY}&to={LAST_DAY}"]
    if role == "admin":
        paths += ["/admin/users/new"]
    return paths


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_every_page_fits_the_screen_speaks_plain_japanese_and_keeps_figures_whole(role, page, live_server,
                                                                                  browser_login, filled):
    failed = failed_requests(page)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    browser_login(page, role)
    paths = menu_paths(page)
    assert len(paths) > {"staff": 8, "manager": 14, "admin": 20}[role]
    assert len([path for path in paths if path.startswith("/admin/")]) == (6 if role == "admin" else 0)
    paths += pages_behind_the_menu(role)
    overflowing, jargon, broken = [], [], []
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            if (sizes := too_wide(page)) is not None:
                overflowing.append((width, path, sizes))
            if words := engineering_words(page, role):
                jargon.append((width, path, words))
            if width == DESKTOP and (pieces := page.evaluate(BROKEN_PIECES)):
                broken.append((path, pieces))
    simulated = simulator_after_a_short_call(page, live_server)
    assert simulated["log"] and simulated["record"] >= 4
    if pieces := page.evaluate(BROKEN_PIECES):
        broken.append(("/ivr/simulator (after a call)", pieces))
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        if (sizes := too_wide(page)) is not None:
            overflowing.append((width, "/ivr/simulator (after a call)", sizes))
        if words := engineering_words(page, role):
            jargon.append((width, "/ivr/simulator (after a call)", words))
    assert overflowing == []
    assert jargon == []
    assert broken == []
    assert failed == []


def simulator_after_a_short_call(page, live_server) -> dict:
    """A call at 1280 px: the menu's keypad opens, 1 sends the SMS, the flow thanks the caller and hangs up."""
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    page.goto(live_server.url + f"/ivr/simulator?to={FLOW_NUMBER.replace('+', '%2B')}")
    page.click("#sim-call")
    page.locator("#sim-keypad button[data-key='1']:not([disabled])").wait_for(timeout=20000)
    page.click("#sim-keypad button[data-key='1']")
    page.locator("#simulator[data-state='ended']").wait_for(timeout=30000)
    page.locator("#sim-sms .sim-sms-item").wait_for()
    return {"log": page.locator("#sim-log li").all_inner_texts(),
            "record": page.locator("#sim-events tr").count()}


def test_on_a_phone_the_menu_opens_and_closes_with_its_button_mouse_or_keyboard(page, live_server, browser_login):
    page.set_viewport_size({"width": PHONE, "height": 800})
    browser_login(page, "manager")
    toggle, menu = page.locator("button.menu-toggle"), page.locator("nav#sidemenu")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()

    toggle.click()
    expect(menu).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE
    assert too_wide(page) is None
    toggle.click()
    expect(menu).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    assert page.evaluate("() => document.activeElement.classList.contains('menu-toggle')")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    menu.get_by_role("link", name="通話明細").click()
    page.wait_for_url("**/reports/calls")
    expect(page.locator("nav#sidemenu")).to_be_hidden()  # a new page starts with the menu folded

    page.set_viewport_size({"width": DESKTOP, "height": 800})
    expect(page.locator("button.menu-toggle")).to_be_hidden()
    expect(page.locator("nav#sidemenu")).to_be_visible()


# The text of an element takes one line (its row may be taller, for a neighbour that wraps).
ONE_LINE = """element => {
    const text = document.createRange();
    text.selectNodeContents(element);
    return text.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(element).lineHeight);
}"""


def test_tables_scroll_in_their_own_box_and_dates_numbers_and_badges_stay_on_one_line(page, live_server,
                                                                                      browser_login, filled):
    page.set_viewport_size({"width": PHONE, "height": 800})
    browser_login(page, "manager")
    page.goto(live_server.url + f"/reports/calls?mode=live&from={FIRST_DAY}&to={LAST_DAY}")
    table = page.locator("#calls-table")
    scroll_width, box_width = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert scroll_width > box_width  # wider than the phone: it scrolls sideways in its own box
    assert too_wide(page) is None
    cells = [*table.locator("tbody td.nowrap").all(), *table.locator("tbody .badge").all()]
    assert len(cells) == 19 * 4
    assert [cell.inner_text() for cell in cells if not cell.evaluate(ONE_LINE)] == []

    page.goto(live_server.url + "/")
    figures = page.locator("table.figures td.num").all()
    assert len(figures) > 20
    assert [cell.inner_text() for cell in figures if not cell.evaluate(ONE_LINE)] == []
