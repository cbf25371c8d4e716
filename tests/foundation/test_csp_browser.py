"""Every page under the Content-Security-Policy in a real browser (issue 11 item 7): each role opens every page of its
menu and the key sub-pages (forms, detail pages, simulator, report with its chart); no CSP violation is reported
(console or `securitypolicyviolation` events) and each page's script still does its job."""
from __future__ import annotations

import datetime as dt

import pytest

from core.db import database
from core.models import ROLES
from web.menu import MENU

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

# Reports every violation as a console line, on every document the page opens (before any of its scripts run).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (e) {
  console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI);
});
"""


class Violations:
    """Console lines about the Content-Security-Policy, whichever way the browser reports them."""

    def __init__(self, page):
        self.seen: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self.note)

    def note(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text or "CSP violation" in text:
            self.seen.append(text)

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


@pytest.fixture
def seeded(live_server, clock):
    """The first-start data, a queued SMS, a running bulk send, report data, an API token and a spare user."""
    import ivr
    import sms
    from core.models import User
    from core.security import issue_api_token
    from guidance.models import Guidance, VoiceFile
    from ivr.models import Call, Flow, Node
    from reports.jobs import refresh_reports
    from sms.models import Message
    from sms.public import send_box_to_caller
    from tests.conftest import fixture_password_hash

    app = live_server.app
    with app.app_context(), database.connection_context():
        sms.seed_defaults(app)
        ivr.seed_defaults(app)  # the demo flow, its guidance synthesized once (Open JTalk)
        send_box_to_caller(1, "+819012345678", call_sid=None, idempotency_key="csp-test", source="ui")
        User.create(username="spare", role="staff", password_hash=fixture_password_hash())
        issue_api_token("csp-test")
        _, raw = issue_api_token("bulk")
        rows = [{"call_sid": f"CA{day:02d}{n:030d}", "from_number": "+819012345678", "to_number": "+815000000000",
                 "started_at": dt.datetime(2026, 1, day, 9, n), "duration_seconds": 20,
                 "outcome": "abandoned" if n % 3 == 2 else "completed"} for day in range(1, 11) for n in range(day)]
        Call.insert_many(rows).execute()
        clock.set("2026-01-14 13:00")
        refresh_reports()
        ids = {"voice_file": VoiceFile.select().first().id, "guidance": Guidance.select().first().id,
               "flow": Flow.select().first().id, "message": Message.select().first().id,
               "menu": Node.select().where(Node.kind == "menu").first().id,
               "user": User.get(User.username == "spare").id}
    bulk = app.test_client().post("/api/v1/bulk-sends", headers={"Authorization": f"Bearer {raw}"},
                                  json={"recipients": ["09011112222", "09011113333"], "messages": ["お知らせです。"]})
    assert bulk.status_code == 201, bulk.get_data(as_text=True)
    ids["bulk"] = bulk.json["id"]
    return ids


def sub_pages(ids: dict) -> dict[str, list[str]]:
    """Pages reached from the menu's pages, by the role that may open them."""
    return {
        "staff": ["/guidance/voice-files/new", f"/guidance/voice-files/{ids['voice_file']}", "/guidance/guidances/new",
                  f"/guidance/guidances/{ids['guidance']}", "/ivr/flows/new", f"/ivr/flows/{ids['flow']}",
                  f"/ivr/menus/{ids['menu']}", "/sms/boxes/new", "/sms/boxes/1", "/account/password"],
        # a customer's message is the delivery log's (sms.visibility): managers read it
        "manager": ["/bulk/new", f"/bulk/{ids['bulk']}", "/sms/log/monthly", f"/sms/messages/{ids['message']}"],
        "admin": ["/admin/users/new", f"/admin/users/{ids['user']}"],
    }


# --- what each page's script does, checked where the page has one ------------------------------------------------
def voice_file_form(page):
    page.check("input[name=source][value=upload]")
    assert page.locator("input[name=upload]").is_visible()
    page.check("input[name=source][value=tts]")
    page.fill("textarea[name=text]", "あいう")
    assert page.inner_text("[data-counter]").startswith("3 / ")


def guidance_form(page):
    rows = page.locator("[data-rows] [data-row]")
    before = rows.count()
    page.click("[data-add-row]")
    assert rows.count() == before + 1


def flow_editor(page):
    nodes = page.locator("#nodes [data-node]")
    before = nodes.count()
    page.click("#add-node")
    assert nodes.count() == before + 1


def box_editor(page):
    page.fill("#box-url", "")  # a URL would be counted as its own line
    page.fill("#box-body", "こんにちは")
    page.locator("#char-count", has_text="5").wait_for()  # counted by the server through fetch()


def simulator(page):
    page.click("#sim-call")
    page.locator("#sim-log li").first.wait_for(timeout=20000)
    page.click("#sim-hangup")
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)


def bulk_recipients(page):
    radios = page.locator("#recipients-form input[name=source]")
    last = radios.nth(radios.count() - 1)
    last.check()
    chosen = last.get_attribute("value")
    assert page.locator(f"#recipients-form section[data-source='{chosen}']").is_visible()
    assert page.locator("#recipients-form section[data-source]:visible").count() == 1


def bulk_detail(page):
    widths = page.eval_on_selector_all(".bulk-bar .bar", "bars => bars.map(b => b.style.width)")
    assert widths and all(w.endswith("%") for w in widths)  # data-width turned into a width by app.js


def report_chart(page):
    page.locator("#report-chart svg[data-days]").wait_for()
    assert page.locator("#report-chart rect.bar-calls").count() > 0


def confirm_before_revoking(page):
    page.once("dialog", lambda dialog: dialog.dismiss())
    button = page.get_by_role("button", name="失効させる").first
    button.click()
    assert button.is_visible() and "/admin/tokens" in page.url  # dismissed: nothing was posted


BEHAVIOURS = {
    "/guidance/voice-files/new": voice_file_form,
    "/guidance/guidances/new": guidance_form,
    "/sms/boxes/1": box_editor,
    "/ivr/simulator": simulator,
    "/bulk/new": bulk_recipients,
    "/reports/": report_chart,
    "/admin/tokens": confirm_before_revoking,
}


def behaviour_for(path: str):
    if path in BEHAVIOURS:
        return BEHAVIOURS[path]
    if path.startswith("/ivr/flows/") and path.rsplit("/", 1)[1].isdigit():
        return flow_editor
    if path.startswith("/bulk/") and path.rsplit("/", 1)[1].isdigit():
        return bulk_detail
    return None


@pytest.mark.parametrize("role", ["staff", "manager", "admin"])
def test_every_page_works_under_the_policy(live_server, page, browser_login, seeded, role):
    violations = Violations(page)
    page.goto(live_server.url + "/login")
    with page.expect_console_message(lambda m: "CSP violation: style-src-attr" in m.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")  # what the policy forbids is reported
    assert violations.take()

    browser_login(page, role)
    menu = page.eval_on_selector_all("nav.sidemenu a", "links => links.map(a => a.getAttribute('href'))")
    assert len(menu) == sum(ROLES.index(role) >= ROLES.index(minimum) for _, items in MENU for _, _, minimum in items)
    pages = ["/", *menu]
    for level in ("staff", "manager", "admin")[: ("staff", "manager", "admin").index(role) + 1]:
        pages += sub_pages(seeded)[level]
    checked = []
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status == 200, path
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.postJSON") == "function", path  # the shared script ran
        behaviour = behaviour_for(path)
        if behaviour:
            behaviour(page)
            checked.append(behaviour.__name__)
        assert violations.take() == [], path
    expected = {"staff": 5, "manager": 8, "admin": 9}[role]
    assert len(set(checked)) == expected, checked


def test_public_pages_are_styled_under_the_policy(live_server, page):
    violations = Violations(page)
    page.goto(live_server.url + "/s/nothing-here")
    assert page.locator("h1").is_visible()
    background = page.eval_on_selector("main", "m => getComputedStyle(m).backgroundColor")
    assert background == "rgb(255, 255, 255)"  # sms/public.css applied (the page's <style> block is gone)
    assert violations.take() == []
