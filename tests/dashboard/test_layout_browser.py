"""Every page of the menu, for each role, in a real browser at 1280 and 390 px: nothing wider than the screen,
no failed request (the favicon included); on a phone the side menu folds behind a button."""
from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from ivr.models import Voicemail
from sms.bulk.models import BulkSend

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
    return clock


def failed_requests(page) -> list[str]:
    failed: list[str] = []
    page.on("response", lambda response: failed.append(f"{response.status} {response.url}")
            if response.status >= 400 else None)
    return failed


def menu_paths(page) -> list[str]:
    hrefs = page.locator("nav.sidemenu a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return ["/", *hrefs]


def too_wide(page) -> tuple[int, ...] | None:
    """The page, or its main area, scrolls sideways (only a table or a panel may, inside its own box)."""
    sizes = page.evaluate("""() => [document.documentElement.scrollWidth, window.innerWidth,
                                    document.querySelector("main").scrollWidth, document.querySelector("main").clientWidth]""")
    page_width, screen, main_width, main_box = sizes
    return tuple(sizes) if page_width > screen or main_width > main_box else None


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_every_menu_page_fits_the_screen_at_1280_and_390(role, page, live_server, browser_login, filled):
    failed = failed_requests(page)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    browser_login(page, role)
    paths = menu_paths(page)
    assert len(paths) > {"staff": 8, "manager": 14, "admin": 20}[role]
    if role != "staff":  # the published report is empty until a refresh: look at the day's records live as well
        paths += [f"/reports/?mode=live&from={FIRST_DAY}&to={LAST_DAY}",
                  f"/reports/calls?mode=live&from={FIRST_DAY}&to={LAST_DAY}"]
    overflowing = []
    for width in (DESKTOP, PHONE):
        page.set_viewport_size({"width": width, "height": 900})
        for path in paths:
            page.goto(live_server.url + path)
            page.wait_for_load_state("load")
            if (sizes := too_wide(page)) is not None:
                overflowing.append((width, path, sizes))
    assert overflowing == []
    assert failed == []


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
