"""Validation on save: every branch leads somewhere, nothing unreachable, no menu without guidance; errors name the node."""
import dataclasses

from ivr.spec import FlowSpec
from ivr.validation import validate_flow
from tests.ivr.builders import menu_flow, node, spec


def replace(flow: FlowSpec, key: str, **changes) -> FlowSpec:
    nodes = dict(flow.nodes)
    nodes[key] = dataclasses.replace(nodes[key], **changes)
    return dataclasses.replace(flow, nodes=nodes)


def test_the_sample_flow_is_valid():
    assert validate_flow(menu_flow(), guidance_ids=set(range(1, 11)), box_numbers={1}) == []


def test_branch_to_a_missing_node_names_node_and_branch():
    flow = replace(menu_flow(), "main", exits={"1": "nowhere", "fallback": "closing"})
    errors = validate_flow(flow)
    assert "ノード「メインメニュー」(main): 分岐「1」の行き先「nowhere」はありません。" in errors


def test_missing_required_exit():
    flow = replace(menu_flow(), "sms", exits={"next": "bye"})
    assert "ノード「SMS送信」(sms): 「送信不可時」の行き先を選んでください。" in validate_flow(flow)


def test_unreachable_node_is_named():
    flow = replace(menu_flow(), "main", exits={"1": "sms", "2": "operator", "fallback": "closing"})
    errors = validate_flow(flow)
    assert "ノード「営業時間」(hours): 開始ノードからたどり着けません。" in errors
    assert any("(open_msg): 開始ノードからたどり着けません" in e for e in errors)


def test_menu_without_guidance_is_refused():
    flow = replace(menu_flow(), "main", guidance=None)
    assert any(e.startswith("ノード「メインメニュー」(main): 振り分けガイダンス【PB】を選んでください")
               for e in validate_flow(flow))


def test_unknown_guidance_and_box_are_named():
    flow = menu_flow()
    errors = validate_flow(flow, guidance_ids={1, 2, 3, 5, 6, 7, 8, 9, 10}, box_numbers={2})
    assert "ノード「メインメニュー」(main): 入力ミス時ガイダンス（ID 4）は登録されていません。" in errors
    assert "ノード「SMS送信」(sms): 蓄積BOX 1 は登録されていません。" in errors


def test_menu_limits_and_branch_digits():
    flow = replace(menu_flow(), "main", digits=2, timeout=0, max_tries=11, max_mis_entries=0,
                   exits={"1": "sms", "2a": "operator", "33": "hours", "fallback": "closing"})
    errors = "\n".join(validate_flow(flow))
    assert "入力タイムアウトは 1〜60 秒" in errors and "タイムアウトの上限回数は 1〜10 回" in errors
    assert "入力ミスの上限回数は 1〜10 回" in errors
    assert "分岐「1」: 桁数（2 桁）と合いません。" in errors
    assert "分岐「2a」: 番号は 0〜9・*・# で入力してください。" in errors


def test_loop_without_input_is_refused():
    flow = spec("a", node("a", "play", guidance=1, exits={"next": "b"}),
                node("b", "hours", exits={"open": "a", "closed": "a"}))
    errors = validate_flow(flow)
    assert any("(a): 入力待ちのない繰り返し" in e for e in errors)
    assert any("(b): 入力待ちのない繰り返し" in e for e in errors)


def test_a_loop_through_a_menu_is_fine():
    flow = spec("m", node("m", "menu", guidance=1, exits={"1": "again", "fallback": "end"}),
                node("again", "goto", exits={"target": "m"}), node("end", "hangup"))
    assert validate_flow(flow) == []


def test_goto_must_point_at_a_menu_and_entry_must_exist():
    flow = spec("x", node("m", "menu", guidance=1, exits={"1": "g", "fallback": "end"}),
                node("g", "goto", exits={"target": "end"}), node("end", "hangup"))
    errors = validate_flow(flow)
    assert "フロー: 開始ノード「x」がありません。" in errors
    assert "ノード「g」(g): 移動先「end」は PB メニューではありません。" in errors


def test_kind_specific_checks():
    flow = spec("t", node("t", "transfer", params={"number": "abc", "timeout": 500}, exits={"no_answer": "h"}),
                node("h", "hours", params={"hours": {"weekdays": [], "open": "18:00", "close": "09:00"}},
                     exits={"open": "end", "closed": "end"}),
                node("end", "hangup"))
    errors = "\n".join(validate_flow(flow))
    assert "(t): 転送先の電話番号を正しく入力してください" in errors
    assert "(t): 呼び出し時間は 5〜120 秒" in errors
    assert "(h): 営業する曜日を 1 つ以上選んでください。" in errors
    assert "(h): 営業開始は営業終了より前にしてください。" in errors


def test_bad_key_and_kind():
    flow = spec("ok", node("ok", "hangup"), node("bad key!", "dance"))
    errors = validate_flow(flow)
    assert "ノード「bad key!」(bad key!): ID は半角英数字・-・_ の 1〜40 文字にしてください。" in errors
    assert "ノード「bad key!」(bad key!): 種類「dance」は使えません。" in errors


def test_empty_flow():
    assert validate_flow(FlowSpec(entry="", nodes={})) == ["フロー: ノードが 1 つもありません。"]
