"""The flow editor in a real browser: deleting asks first, and a refused save keeps what was typed."""
import pytest

from ivr.models import Flow, Node

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def node_card(page, key):
    return page.locator("fieldset[data-node]", has=page.locator(f"input[data-node-key][value='{key}']"))


class Dialogs:
    """Answers the page's confirm() dialogs as told, and keeps their messages."""

    def __init__(self, page):
        self.accept = False
        self.seen: list[str] = []
        self.posts: list[str] = []  # forms the page submitted
        page.on("dialog", self.answer)
        page.on("request", lambda request: self.posts.append(request.url) if request.method == "POST" else None)

    def answer(self, dialog):
        self.seen.append(dialog.message)
        dialog.accept() if self.accept else dialog.dismiss()


def test_deleting_a_node_asks_first_and_a_refused_save_keeps_the_input(page, live_server, browser_login,
                                                                        menu_flow_saved):
    browser_login(page, "staff")
    page.goto(live_server.url + f"/ivr/flows/{menu_flow_saved.id}")
    assert page.locator("h1").inner_text() == "コールフロー「テストフロー」"
    node_card(page, "busy").locator("input[name$='-delete']").check()
    page.fill("input[name='description']", "混雑案内を外す")

    dialogs = Dialogs(page)
    page.click("button[type=submit].primary")
    assert dialogs.seen == ["ノード 「混雑」 を削除して保存しますか？"] and dialogs.posts == []
    assert Node.select().where((Node.flow == menu_flow_saved.id) & (Node.key == "busy")).exists()

    dialogs.accept = True
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    errors = page.locator(".flash-error")
    assert "ノード「オペレーター」(operator): 「不応答時」の行き先「busy」はありません。" in errors.inner_text()
    assert node_card(page, "busy").locator("input[name$='-delete']").is_checked()
    assert page.input_value("input[name='description']") == "混雑案内を外す"
    assert Node.select().where((Node.flow == menu_flow_saved.id) & (Node.key == "busy")).exists()


def test_deleting_a_flow_asks_first(page, live_server, browser_login, menu_flow_saved):
    browser_login(page, "staff")
    page.goto(live_server.url + "/ivr/flows")
    delete = page.locator("form[data-confirm] button", has_text="削除")

    dialogs = Dialogs(page)
    delete.click()
    assert dialogs.seen == ["フロー「テストフロー」を削除しますか？この番号への着信はお詫びの案内で切断されるようになります。"]
    assert dialogs.posts == [] and Flow.select().count() == 1

    dialogs.accept = True
    with page.expect_navigation():
        delete.click()
    page.locator(".flash", has_text="フロー「テストフロー」を削除しました。").wait_for()
    assert Flow.select().count() == 0
