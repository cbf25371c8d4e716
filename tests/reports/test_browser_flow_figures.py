"""Real browser: from the report, open the flow picture for a range and see the figures on the nodes, the place
where most callers hung up marked."""
import datetime as dt

import pytest

from core.db import database

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
DIALLED = "+815000000000"


def seed(app):
    """A flow (greeting → menu → SMS / closing) and a week of calls: most hang up during the menu's prompt."""
    from ivr.models import Call, CallEvent, Flow, Node

    with app.app_context(), database.connection_context():
        flow = Flow.create(name="代表番号", number=DIALLED, entry_key="greeting")
        for position, (key, name, kind, exits) in enumerate([
                ("greeting", "オープニング", "play", '{"next": "main"}'),
                ("main", "受付メニュー", "menu", '{"1": "sms", "fallback": "bye"}'),
                ("sms", "SMS送信", "sms", '{"next": "bye", "cannot_send": "bye"}'),
                ("bye", "終話", "hangup", "{}")]):
            Node.create(flow=flow, key=key, name=name, kind=kind, position=position, exits=exits)
        for n in range(12):
            at = dt.datetime(2026, 1, 5 + n % 5, 10, n)
            gave_up = n % 3 != 0
            call = Call.create(call_sid=f"CA{n:032d}", flow=flow, to_number=DIALLED, from_number="+819012345678",
                               started_at=at, ended_at=at, duration_seconds=20, timeline='{"at": 0, "items": []}',
                               outcome="abandoned" if gave_up else "completed",
                               abandoned_node_key="main" if gave_up else None,
                               abandoned_node_name="受付メニュー" if gave_up else None,
                               abandoned_part="menu_prompt" if gave_up else None,
                               abandoned_guidance_name="受付の案内" if gave_up else None)
            path = [("node", "greeting", ""), ("node", "main", "")]
            path += [] if gave_up else [("digit", "main", "1"), ("node", "sms", ""), ("node", "bye", "")]
            for kind, key, digits in path:
                CallEvent.create(call=call, at=at, kind=kind, node_key=key, digits=digits)


def test_the_picture_shows_the_figures_and_marks_the_worst_node(live_server, page, browser_login, clock):
    seed(live_server.app)
    clock.set("2026-01-10 10:00")
    browser_login(page, "manager")
    page.goto(live_server.url + "/reports/?from=2026-01-05&to=2026-01-09&mode=live")
    page.click("#flow-figures-link")
    page.wait_for_selector("body[data-figures-ready='1']")
    assert "/reports/flow?" in page.url
    worst = page.locator("#dg-main.fg-worst")
    assert worst.get_attribute("data-worst-rank") == "1"
    assert worst.locator(".fg-hangup").inner_text() == "途中放棄 8（66.7%）"
    assert worst.locator(".fg-reached").inner_text() == "到達 12"
    assert worst.locator(".fg-digit").inner_text() == "「1」4"
    assert page.locator("#dg-sms .fg-reached").inner_text() == "到達 4"
    assert page.locator(".dg-node.fg-worst").count() == 1
    assert "1位 受付メニュー" in page.locator("#worst-summary").inner_text()
    # a range with no calls: no marks
    page.goto(live_server.url + "/reports/flow?from=2026-01-01&to=2026-01-02&mode=live")
    page.wait_for_selector("body[data-figures-ready='1']")
    assert page.locator(".dg-node.fg-worst").count() == 0
