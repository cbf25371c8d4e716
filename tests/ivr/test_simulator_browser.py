"""The call simulator in a real browser: it calls flows through the signed webhooks and follows the TwiML."""
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


def test_hanging_up_in_the_simulator_records_abandonment(page, live_server, browser_login, menu_flow_saved):
    browser_login(page, "staff")
    page.goto(live_server.url + f"/ivr/simulator?to={FLOW_NUMBER.replace('+', '%2B')}")
    page.check("#sim-withheld")
    page.click("#sim-call")
    key(page, "1").wait_for(timeout=15000)
    page.click("#sim-hangup")
    page.locator("#sim-outcome", has_text="途中放棄").wait_for()
    call = Call.get(Call.call_sid == page.locator("#simulator").get_attribute("data-call-sid"))
    assert (call.outcome, call.abandoned_node_key, call.from_number) == ("abandoned", "main", "anonymous")
