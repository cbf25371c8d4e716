"""Routing settings pages (R-13, R-60): flows editor, menus list and detail, caller rules; validation keeps input."""
import json

import pytest

from core.models import AuditLog
from ivr.models import Call, CallerRule, Flow, Node
from tests.ivr.conftest import FLOW_NUMBER


def text(response):
    return response.get_data(as_text=True)


def test_menu_pages_need_login_and_appear_in_the_menu(client, staff_client, menu_flow_saved):
    assert client.get("/ivr/menus").status_code == 302
    home = text(staff_client.get("/"))
    for label in ("入力指示ルーティング変更", "コールフロー", "発信者番号設定", "通話シミュレーター"):
        assert label in home


def test_menus_list_and_search(staff_client, menu_flow_saved):
    page = text(staff_client.get("/ivr/menus"))
    assert "メインメニュー" in page and "050-1111-2222" in page and "テスト_mis_entry" in page
    assert "メインメニュー" in text(staff_client.get("/ivr/menus?q=メイン"))
    assert "メインメニュー" in text(staff_client.get("/ivr/menus?q=050-1111-2222"))
    assert "メインメニュー" not in text(staff_client.get("/ivr/menus?q=存在しない"))


def menu_form(node, g, changes=None, **more):
    exits = node.exit_map()
    form = {"name": node.name, "guidance": g["menu"], "timeout_guidance": g["timeout"],
            "mis_entry_guidance": g["mis_entry"], "digits": "1", "timeout": "5", "max_tries": "3",
            "exit-fallback": exits["fallback"]}
    branches = sorted((k, v) for k, v in exits.items() if k != "fallback")
    for j in range(12):
        digit, target = branches[j] if j < len(branches) else ("", "")
        form[f"branch-{j}-digit"], form[f"branch-{j}-target"] = digit, target
    form.update(changes or {})
    form.update(more)
    return form


def test_menu_detail_changes_guidance_timeout_and_branches_with_audit(staff_client, menu_flow_saved, guidance):
    node = Node.get((Node.flow == menu_flow_saved.id) & (Node.key == "main"))
    page = text(staff_client.get(f"/ivr/menus/{node.id}"))
    assert "入力ミス時ガイダンス" in page and "入力タイムアウト時ガイダンス" in page and 'class="dg"' in page
    form = menu_form(node, guidance, {"branch-3-digit": "9", "branch-3-target": "closing"},
                     mis_entry_guidance=guidance["timeout"], timeout_guidance=guidance["mis_entry"],
                     timeout="8", max_tries="4")
    response = staff_client.post(f"/ivr/menus/{node.id}", data=form)
    assert response.status_code == 302
    node = Node.get_by_id(node.id)
    assert (node.mis_entry_guidance_id, node.timeout_guidance_id) == (guidance["timeout"], guidance["mis_entry"])
    assert (node.timeout_seconds, node.max_tries, node.exit_map()["9"]) == (8, 4, "closing")
    entry = AuditLog.get(AuditLog.action == "ivr.menu.updated")
    detail = json.loads(entry.detail)
    assert detail["before"]["timeout"] == 5 and detail["after"]["timeout"] == 8 and entry.actor == "staff1"


@pytest.mark.parametrize("changes, message", [
    ({"timeout": "abc"}, "入力タイムアウト（秒）は半角数字（整数）で入力してください（入力: abc）。"),
    ({"guidance": ""}, "振り分けガイダンス【PB】を選んでください"),
    ({"branch-0-target": "nowhere"}, "分岐「1」の行き先「nowhere」はありません。"),
    ({"branch-2-target": ""}, "分岐「3」の行き先を選んでください。"),
])
def test_menu_detail_refuses_bad_input_and_keeps_it(staff_client, menu_flow_saved, guidance, changes, message):
    node = Node.get((Node.flow == menu_flow_saved.id) & (Node.key == "main"))
    revision = Flow.get_by_id(menu_flow_saved.id).revision
    response = staff_client.post(f"/ivr/menus/{node.id}", data=menu_form(node, guidance, changes, max_tries="7"))
    page = text(response)
    assert response.status_code == 400 and message in page
    assert 'name="max_tries" value="7"' in page  # the user's input is kept
    assert Flow.get_by_id(menu_flow_saved.id).revision == revision


def test_removing_a_branch_that_leaves_a_node_unreachable_is_refused(staff_client, menu_flow_saved, guidance):
    node = Node.get((Node.flow == menu_flow_saved.id) & (Node.key == "main"))
    response = staff_client.post(f"/ivr/menus/{node.id}",
                                 data=menu_form(node, guidance, {"branch-2-digit": "", "branch-2-target": ""}))
    assert response.status_code == 400
    assert "ノード「営業時間」(hours): 開始ノードからたどり着けません。" in text(response)


def flow_form(rows, **fields):
    form = {"name": "新フロー", "number": "050-2222-3333", "description": "", "entry": rows[0]["key"]}
    form.update(fields)
    for i, row in enumerate(rows):
        for key, value in row.items():
            form[f"nodes-{i}-{key}"] = value
    return form


def test_create_a_flow_in_the_editor_and_see_its_diagram(staff_client, guidance, box):
    rows = [
        {"key": "top", "name": "受付", "kind": "menu", "guidance": guidance["menu"], "digits": "1", "timeout": "5",
         "max_tries": "3", "branch-0-digit": "1", "branch-0-target": "bye", "exit-fallback": "bye"},
        {"key": "bye", "name": "終わり", "kind": "hangup", "guidance": guidance["closing"]},
        {"key": "", "name": "", "kind": "menu"},  # the blank row the editor always offers
    ]
    response = staff_client.post("/ivr/flows/new", data=flow_form(rows))
    assert response.status_code == 302, text(response)
    flow = Flow.get(Flow.number == "+815022223333")
    assert [n.key for n in flow.ordered_nodes()] == ["top", "bye"]
    page = text(staff_client.get(f"/ivr/flows/{flow.id}"))
    assert 'id="dg-top"' in page and 'id="dg-bye"' in page and "「1」" in page and "リトライ上限時" in page
    assert AuditLog.get(AuditLog.action == "ivr.flow.created").target == "新フロー (+815022223333)"


def test_flow_editor_errors_name_the_node_and_keep_input(staff_client, guidance, box, menu_flow_saved):
    rows = [
        {"key": "top", "name": "受付", "kind": "menu", "guidance": "", "digits": "1", "timeout": "5",
         "max_tries": "3", "branch-0-digit": "1", "branch-0-target": "ghost", "exit-fallback": "top"},
        {"key": "lost", "name": "迷子", "kind": "hangup"},
    ]
    response = staff_client.post("/ivr/flows/new", data=flow_form(rows, number="050-1111-2222"))
    page = text(response)
    assert response.status_code == 400
    assert "着信番号 +815011112222 は既にフロー「テストフロー」で使われています。" in page
    assert "ノード「受付」(top): 振り分けガイダンス【PB】を選んでください" in page
    assert "ノード「受付」(top): 分岐「1」の行き先「ghost」はありません。" in page
    assert "ノード「迷子」(lost): 開始ノードからたどり着けません。" in page
    assert 'value="ghost"' in page and 'value="迷子"' in page
    assert Flow.select().count() == 1


def test_bad_flow_number_is_named(staff_client, guidance):
    rows = [{"key": "bye", "name": "終わり", "kind": "hangup"}]
    page = text(staff_client.post("/ivr/flows/new", data=flow_form(rows, number="でんわ")))
    assert "着信番号を正しく入力してください" in page and 'value="でんわ"' in page


def test_delete_a_flow_keeps_call_records(staff_client, phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    assert staff_client.post(f"/ivr/flows/{menu_flow_saved.id}/delete").status_code == 302
    assert Flow.select().count() == 0 and Node.select().count() == 0
    assert Call.get(Call.call_sid == call.sid).flow_id is None
    assert phone.dial(FLOW_NUMBER).root.find("./Say") is not None


def test_caller_rules_block_and_route_with_validation(staff_client, menu_flow_saved):
    assert staff_client.get("/ivr/callers").status_code == 200
    response = staff_client.post("/ivr/callers", data={"number": "090-1111-0000", "action": "block", "note": "迷惑"})
    assert response.status_code == 302
    response = staff_client.post("/ivr/callers", data={"number": "090-2222-0000", "action": "route",
                                                       "target": f"{menu_flow_saved.id}:operator"})
    assert response.status_code == 302
    assert {(r.number, r.action, r.node_key) for r in CallerRule.select()} == {
        ("+819011110000", "block", ""), ("+819022220000", "route", "operator")}
    bad = staff_client.post("/ivr/callers", data={"number": "abc", "action": "route", "target": "", "note": "x"})
    page = text(bad)
    assert bad.status_code == 400
    assert "発信者番号「abc」は電話番号として正しくありません。" in page and "振り分け先のノードを選んでください。" in page
    assert 'value="abc"' in page
    twice = staff_client.post("/ivr/callers", data={"number": "09011110000", "action": "block"})
    assert "同じ発信者番号・同じフローの設定が既にあります" in text(twice)
    withheld = staff_client.post("/ivr/callers", data={"withheld": "1", "action": "block"})
    assert withheld.status_code == 302 and CallerRule.get(CallerRule.number == "withheld").action == "block"
    listing = text(staff_client.get("/ivr/callers"))
    assert "090-1111-0000" in listing and "非通知" in listing
    rule = CallerRule.get(CallerRule.number == "+819011110000")
    assert staff_client.post(f"/ivr/callers/{rule.id}/delete").status_code == 302
    assert AuditLog.select().where(AuditLog.action.startswith("ivr.caller_rule")).count() == 4


@pytest.mark.parametrize("typed", ["090-1234-56", "+8190123456", "03-1234", "０９０－１２３４－５６"])
def test_an_incomplete_caller_number_is_refused_not_stored(staff_client, menu_flow_saved, typed):
    # 「090-1234-56」 used to be stored as +8190123456 and reported as added; it matches no caller.
    response = staff_client.post("/ivr/callers", data={"number": typed, "action": "block", "note": "迷惑"})
    page = text(response)
    assert response.status_code == 400 and "追加しました" not in page
    assert f"発信者番号「{typed}」は電話番号として正しくありません。市外局番から最後の桁まで入力してください" in page
    assert f'value="{typed}"' in page and 'value="迷惑"' in page
    assert CallerRule.select().count() == 0
    assert not AuditLog.select().where(AuditLog.action == "ivr.caller_rule.created").exists()


def test_caller_numbers_of_every_kind_are_stored_whole_and_shown_alike(staff_client, menu_flow_saved):
    for typed in ("03-1234-5678", "＋１ ４１５ ５５５ ０１００", "０８０ー１２３４ー５６７８"):
        assert staff_client.post("/ivr/callers", data={"number": typed, "action": "block"}).status_code == 302
    assert {r.number for r in CallerRule.select()} == {"+81312345678", "+14155550100", "+818012345678"}
    listing = text(staff_client.get("/ivr/callers"))
    for shown in ("03-1234-5678", "+1 415-555-0100", "080-1234-5678", "テストフロー（050-1111-2222）"):
        assert shown in listing
    assert "番号が不完全" not in listing


def test_incomplete_rules_saved_before_the_fix_are_flagged(staff_client, menu_flow_saved, phone):
    CallerRule.create(number="+8190123456", action="block", note="古い登録")
    listing = text(staff_client.get("/ivr/callers"))
    assert "090123456" in listing and "番号が不完全" in listing and "どの着信にも一致しません" in listing
    assert phone.dial(FLOW_NUMBER, caller="+819012345678").root.find("./Reject") is None  # it never blocked


def test_an_incomplete_transfer_number_is_refused_naming_the_node(staff_client, guidance):
    rows = [{"key": "op", "name": "オペレーター", "kind": "transfer", "transfer_number": "03-1234",
             "transfer_timeout": "20", "exit-no_answer": "bye"},
            {"key": "bye", "name": "終わり", "kind": "hangup"}]
    response = staff_client.post("/ivr/flows/new", data=flow_form(rows))
    page = text(response)
    assert response.status_code == 400 and Flow.select().count() == 0
    assert "ノード「オペレーター」(op): 転送先電話番号「03-1234」は電話番号として正しくありません。" in page
    assert 'value="03-1234"' in page


def test_a_transfer_number_is_stored_as_e164_and_edited_as_shown(staff_client, guidance):
    rows = [{"key": "op", "name": "オペレーター", "kind": "transfer", "transfer_number": "０３ー１２３４ー５６７８",
             "transfer_timeout": "20", "exit-no_answer": "bye"},
            {"key": "bye", "name": "終わり", "kind": "hangup"}]
    assert staff_client.post("/ivr/flows/new", data=flow_form(rows)).status_code == 302
    flow = Flow.get()
    assert Node.get((Node.flow == flow.id) & (Node.key == "op")).spec().param("number") == "+81312345678"
    page = text(staff_client.get(f"/ivr/flows/{flow.id}"))
    assert 'value="03-1234-5678"' in page and "03-1234-5678（20秒）" in page and 'value="050-2222-3333"' in page


def test_the_simulator_refuses_an_incomplete_caller_number(staff_client, menu_flow_saved):
    response = staff_client.post("/ivr/simulator/start", json={"to": FLOW_NUMBER, "from": "090-1234-56"})
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("発信者番号「090-1234-56」は電話番号として正しくありません。")
    assert not Call.select().exists()


def test_guidance_in_use_is_reported_to_guidance(menu_flow_saved, guidance):
    from guidance.public import guidance_users

    users = guidance_users(guidance["mis_entry"])
    assert users == ["フロー「テストフロー」のノード「メインメニュー」（入力ミス時ガイダンス）"]
