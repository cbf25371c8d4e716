"""Real browser (Debian chromium): log in, see the menu, lock an account by wrong passwords, unlock it as admin."""
import pytest
from playwright.sync_api import expect

from core.db import database
from core.models import User
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def test_admin_sees_menu_and_unlocks_an_account_locked_by_wrong_passwords(live_server, page, browser_login, browser):
    browser_login(page, "admin", "chief")
    menu = page.locator("nav.sidemenu")
    assert menu.get_by_text("アカウント", exact=True).is_visible()
    expect(menu.get_by_text("管理")).to_be_visible()

    page.click("text=アカウント")
    page.click("text=新規作成")
    page.fill("input[name=username]", "operator")
    page.fill("input[name=display_name]", "オペレーター")
    page.select_option("select[name=role]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.click("button:has-text('保存')")
    expect(page.get_by_text("アカウント「operator」を作成しました。")).to_be_visible()

    other = browser.new_context(locale="ja-JP").new_page()
    for attempt in range(5):
        other.goto(live_server.url + "/login")
        other.fill("input[name=username]", "operator")
        other.fill("input[name=password]", f"wrong-{attempt}")
        other.click("button[type=submit]")
    expect(other.get_by_text("ログインできませんでした")).to_be_visible()
    other.fill("input[name=username]", "operator")
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    expect(other.get_by_text("ログインできませんでした")).to_be_visible()  # a stranger never learns of the lock

    page.goto(live_server.url + "/admin/users")
    row = page.locator("tr", has_text="operator")
    expect(row.get_by_text("ロック中")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="ロック解除").click()
    expect(page.get_by_text("アカウント「operator」のロックを解除しました。")).to_be_visible()
    with live_server.app.app_context(), database.connection_context():
        assert User.get(User.username == "operator").locked_at is None

    other.goto(live_server.url + "/login")
    other.fill("input[name=username]", "operator")
    other.fill("input[name=password]", PASSWORD)
    other.click("button[type=submit]")
    other.wait_for_url(live_server.url + "/")
    assert other.locator("nav.sidemenu").is_visible()
    assert other.locator("nav.sidemenu").get_by_text("アカウント", exact=True).count() == 0  # staff see no admin menu
    other.context.close()
