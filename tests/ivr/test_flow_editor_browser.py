"""The call-flow editor in a real browser, as a manager uses it: a flow from a template built on the picture
without typing an ID, tried as a draft in the simulator, published, changed, published, rolled back; an invalid
draft is refused with the node marked; the list of nodes at 390 px; the keyboard."""
from urllib.parse import urlsplit

import pytest

from guidance.public import playlist
from ivr.models import Flow, FlowVersion

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]
NUMBER = "050-1111-3333"


def audio_path(guidance_id):
    return urlsplit(playlist(guidance_id)[0].url).path


def choose_node(page, key):
    page.click(f"#fe-svg [data-node-id='{key}']")
    page.locator(f"#fe-list button[data-node-id='{key}'][aria-current='true']").wait_for()


def choose_guidance(page, field, guidance_id):
    page.select_option(f"#fe-panel [data-field='{field}'] select", value=str(guidance_id))


def saved(page):
    page.locator("#fe-saved", has_text="下書きを保存しました").wait_for()


def new_flow_from_template(page, live_server, name="受付テスト"):
    page.goto(live_server.url + "/ivr/flows")
    page.click("text=新しいフロー")
    page.fill("input[name=name]", name)
    page.fill("input[name=number]", NUMBER)
    page.check("input[name=starter][value=reception]")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    page.locator("#fe-svg [data-node-id='menu1']").wait_for()


def call_in_simulator(page, draft: bool):
    page.locator("#sim-call").wait_for()
    page.set_checked("#sim-draft", draft)
    page.click("#sim-call")


def played(page, path):
    return page.locator(f"#sim-log li.sim-play[data-url$='{path}']")


def test_build_try_publish_change_publish_and_roll_back(page, live_server, browser_login, guidance, box):
    browser_login(page, "manager")
    new_flow_from_template(page, live_server)
    # The template drew greeting → menu (1 SMS, 2 transfer); nothing is published yet and the picture says why.
    assert page.locator("#fe-state").inner_text() == "下書きあり（未公開）"
    assert page.locator("#fe-svg .fe-has-issue[data-node-id='menu1']").count() == 1

    choose_node(page, "play1")
    choose_guidance(page, "guidance", guidance["greeting"])
    choose_node(page, "menu1")
    choose_guidance(page, "guidance", guidance["menu"])
    choose_guidance(page, "timeout_guidance", guidance["timeout"])
    # The mis-entry guidance is typed right there, heard, and made.
    mis_entry = page.locator("#fe-panel [data-field='mis_entry_guidance']")
    mis_entry.locator("summary").click()
    mis_entry.locator("textarea").fill("入力が間違っています。もう一度お願いします。")
    mis_entry.locator("button", has_text="この文章で作って使う").click()
    page.locator("#fe-panel [data-field='mis_entry_guidance'] select option:checked",
                 has_text="受付テスト・メインメニュー").wait_for(state="attached", timeout=20000)
    # Only the digits in use are shown; 「+ 番号を追加」 adds 3, whose target is a new node made on the spot.
    assert page.locator("#fe-panel .fe-branch").count() == 2
    page.click("#fe-panel button.fe-add-digit")
    page.select_option("#fe-panel [data-field='branch:3'] select", value="new:play")
    page.locator("#fe-svg [data-node-id='play2']").wait_for()
    assert page.locator("#fe-svg .fe-edge[data-from='menu1'][data-exit='3']").count() == 1

    choose_node(page, "play2")
    choose_guidance(page, "guidance", guidance["open"])
    page.select_option("#fe-panel [data-field='exit:next'] select", value="hangup1")
    choose_node(page, "sms1")
    choose_guidance(page, "guidance", guidance["sent"])
    choose_node(page, "transfer1")
    page.fill("#fe-panel [data-field='transfer_number'] input", "03-1234-5678")
    saved(page)
    page.locator("#fe-issues .fe-ok").wait_for()
    flow = Flow.get(Flow.name == "受付テスト")
    assert flow.version_id is None  # still a draft: callers hear nothing of it

    # Tried as a draft in the simulator: the greeting plays, 1 sends the SMS.
    with page.expect_navigation():
        page.click("#fe-try")
    assert page.locator("#sim-draft").is_checked()
    call_in_simulator(page, draft=True)
    played(page, audio_path(guidance["greeting"])).wait_for()
    page.locator("#sim-keypad button[data-key='1']:not([disabled])").wait_for(timeout=15000)
    page.click("#sim-keypad button[data-key='1']")
    page.locator("#sim-sms .sim-sms-item").wait_for()
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)

    # Published as version 1.
    page.goto(live_server.url + f"/ivr/flows/{flow.id}/editor")
    with page.expect_navigation():
        page.click("#fe-publish")
    page.locator(".flash", has_text="版 1 を公開しました").wait_for()
    # The greeting changes, version 2 is published.
    choose_node(page, "play1")
    choose_guidance(page, "guidance", guidance["closing"])
    saved(page)
    with page.expect_navigation():
        page.click("#fe-publish")
    page.locator(".flash", has_text="版 2 を公開しました").wait_for()

    # The history reads the change; 「この版に戻す」 on version 1 publishes it again as version 3.
    page.click("text=版の履歴")
    second = page.locator(".fe-version[data-version='2']")
    assert "ノード「挨拶」: ガイダンスを「テスト_greeting" in second.inner_text()
    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.locator(".fe-version[data-version='1'] button", has_text="この版に戻す").click()
    page.locator(".flash", has_text="版 1 の内容を版 3 として公開しました").wait_for()
    assert [v.number for v in FlowVersion.select().where((FlowVersion.flow == flow.id)
                                                         & FlowVersion.number.is_null(False))] == [1, 2, 3]

    # A call now hears the first greeting again.
    page.goto(live_server.url + f"/ivr/simulator?to={'%2B815011113333'}")
    call_in_simulator(page, draft=False)
    played(page, audio_path(guidance["greeting"])).wait_for()
    assert played(page, audio_path(guidance["closing"])).count() == 0


def test_an_invalid_draft_is_not_published_and_the_picture_marks_the_node(page, live_server, browser_login,
                                                                           menu_flow_saved, guidance):
    browser_login(page, "manager")
    page.goto(live_server.url + f"/ivr/flows/{menu_flow_saved.id}/editor")
    assert page.locator("#fe-state").inner_text() == "公開中: 版 1"
    choose_node(page, "main")
    page.select_option("#fe-panel [data-field='guidance'] select", value="")
    saved(page)
    page.locator("#fe-svg .fe-has-issue[data-node-id='main']").wait_for()
    with page.expect_navigation():
        page.click("#fe-publish")
    assert "公開できません" in page.locator(".flash-error").inner_text()
    assert page.locator("#fe-svg .fe-has-issue[data-node-id='main']").count() == 1
    field = page.locator("#fe-panel [data-field='guidance'].has-error")
    assert "振り分けガイダンス【PB】を選んでください" in field.inner_text()
    assert field.locator("select[aria-invalid='true']").count() == 1
    assert Flow.get_by_id(menu_flow_saved.id).version_id == FlowVersion.get(FlowVersion.number == 1).id


def test_at_390_px_the_flow_is_a_list_of_nodes_and_works_from_the_keyboard(page, live_server, browser_login,
                                                                           menu_flow_saved):
    page.set_viewport_size({"width": 390, "height": 800})
    browser_login(page, "manager")
    page.goto(live_server.url + f"/ivr/flows/{menu_flow_saved.id}/editor")
    assert not page.locator("#fe-svg").is_visible()
    items = page.locator("#fe-list button[data-node-id]")
    assert items.count() == 11 and items.first.inner_text().startswith("開始: 挨拶")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#fe-list button[data-node-id='main']").focus()
    page.keyboard.press("Enter")
    page.locator("#fe-panel h2", has_text="メインメニュー").wait_for()
    assert page.evaluate("document.activeElement.id") == "fe-panel"
    page.keyboard.press("Tab")  # into the panel: its first field is the name
    page.keyboard.press("End")
    page.keyboard.type("（改）")
    saved(page)
    assert page.locator("#fe-list button[data-node-id='main']").inner_text().startswith("メインメニュー（改）")


def test_nodes_on_the_picture_open_with_the_keyboard(page, live_server, browser_login, menu_flow_saved):
    browser_login(page, "manager")
    page.goto(live_server.url + f"/ivr/flows/{menu_flow_saved.id}/editor")
    page.locator("#fe-svg [data-node-id='operator']").focus()
    page.keyboard.press("Enter")
    page.locator("#fe-panel h2", has_text="オペレーター").wait_for()
    assert page.input_value("#fe-panel [data-field='transfer_number'] input") == "03-1234-5678"
    targets = page.locator("#fe-panel [data-field='exit:no_answer'] select option:checked").inner_text()
    assert targets == "混雑"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "ivr.default_timeout_seconds": 8, "ivr.default_max_tries": 4,
            "ivr.default_max_mis_entries": 2}


def test_a_menu_added_on_the_picture_starts_from_the_settings_defaults(page, live_server, browser_login,
                                                                        menu_flow_saved):
    from ivr import versions

    browser_login(page, "manager")
    page.goto(live_server.url + f"/ivr/flows/{menu_flow_saved.id}/editor")
    choose_node(page, "operator")
    page.select_option("#fe-panel [data-field='exit:no_answer'] select", value="new:menu")
    page.locator("#fe-svg [data-node-id='menu1']").wait_for()
    choose_node(page, "menu1")
    fields = {name: page.input_value(f"#fe-panel [data-field='{name}'] input")
              for name in ("timeout", "max_tries", "max_mis_entries")}
    assert fields == {"timeout": "8", "max_tries": "4", "max_mis_entries": "2"}
    saved(page)
    menu = versions.editing_spec(menu_flow_saved).nodes["menu1"]
    assert (menu.timeout, menu.max_tries, menu.max_mis_entries) == (8, 4, 2)
