"""The dashboard in a real browser: a call made in the call simulator a moment before shows on a manager's home page."""
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


@pytest.fixture
def demo(app, demo_guidance, live_server):
    """First-start data in the live server's database: storage box 1 and the demo flow."""
    import ivr
    import sms

    sms.seed_defaults(app)
    ivr.seed_defaults(app)


def figure(page, tile: str, line: str):
    """Today's cell of a dashboard line."""
    return page.locator(f"#tile-{tile} tr[data-line='{line}'] td").first


def test_a_call_made_in_the_simulator_a_moment_ago_is_on_the_managers_dashboard(page, live_server, browser_login,
                                                                                 demo):
    browser_login(page, "manager")
    expect(figure(page, "calls", "calls")).to_have_text("0 件")

    page.goto(live_server.url + "/ivr/simulator")
    page.fill("#sim-from", "090-1234-5678")
    page.click("#sim-call")
    page.locator("#sim-keypad button[data-key='1']:not([disabled])").wait_for(timeout=15000)
    page.click("#sim-hangup")  # during the menu: the caller abandons
    page.locator("#sim-outcome", has_text="途中放棄").wait_for()

    page.goto(live_server.url + "/")
    expect(figure(page, "calls", "calls")).to_have_text("1 件")
    expect(figure(page, "calls", "outcome-abandoned")).to_have_text("1 件")
    expect(figure(page, "calls", "abandon-rate")).to_have_text("100.0%")
    expect(figure(page, "calls", "outcome-completed")).to_have_text("0 件")

    figure(page, "calls", "outcome-abandoned").get_by_role("link").click()
    page.wait_for_url("**/reports/calls?*outcome=abandoned*")
    expect(page.locator("#live-label")).to_have_text("速報")
    rows = page.locator("#calls-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("途中放棄")
