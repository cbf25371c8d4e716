"""Whether a flow can be used: every problem, in Japanese and naming the node, for the editor and before a save.

ivr.store.save_flow refuses a flow with problems; the flow list shows them for flows saved before a rule existed.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from core import phone
from ivr import messages as msg
from ivr.hours import Hours
from ivr.spec import REQUIRED_EXITS, WAITING_KINDS, FlowSpec, NodeSpec, guidance_fields

NODE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
BRANCH_DIGITS = re.compile(r"^[0-9*#]{1,20}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def validate_flow(flow: FlowSpec, guidance_ids: set[int] | None = None, box_numbers: set[int] | None = None,
                  ) -> list[str]:
    """Every problem of a flow, in Japanese, each naming the node; [] when the flow can be used."""
    errors: list[str] = []
    if not flow.nodes:
        return ["フロー: ノードが 1 つもありません。"]
    if flow.entry not in flow.nodes:
        errors.append(f"フロー: 開始ノード「{flow.entry}」がありません。" if flow.entry else "フロー: 開始ノードを選んでください。")
    for node in flow.nodes.values():
        errors.extend(f"ノード「{node.label}」({node.key}): {problem}"
                      for problem in node_problems(node, flow, guidance_ids, box_numbers))
    if flow.entry in flow.nodes:
        reachable = reachable_keys(flow)
        errors.extend(f"ノード「{node.label}」({node.key}): 開始ノードからたどり着けません。"
                      for node in flow.nodes.values() if node.key not in reachable)
    errors.extend(f"ノード「{flow.nodes[key].label}」({key}): 入力待ちのない繰り返しになっています（無限ループ）。"
                  for key in loop_without_input(flow))
    return errors


def node_problems(node: NodeSpec, flow: FlowSpec, guidance_ids: set[int] | None,
                  box_numbers: set[int] | None) -> list[str]:
    problems: list[str] = []
    if not NODE_KEY.match(node.key):
        problems.append("ID は半角英数字・-・_ の 1〜40 文字にしてください。")
    if node.kind not in REQUIRED_EXITS:
        return problems + [f"種類「{node.kind}」は使えません。"]
    problems += exit_problems(node, flow)
    problems += guidance_problems(node, guidance_ids)
    problems += KIND_CHECKS.get(node.kind, lambda n, b: [])(node, box_numbers)
    return problems


def exit_problems(node: NodeSpec, flow: FlowSpec) -> list[str]:
    problems = []
    for name in REQUIRED_EXITS[node.kind]:
        if not node.exits.get(name):
            problems.append(f"「{msg.EXIT_LABELS[name]}」の行き先を選んでください。")
    allowed = set(REQUIRED_EXITS[node.kind])
    for label, target in node.exits.items():
        where = f"「{msg.EXIT_LABELS.get(label, label)}」" if label in msg.EXIT_LABELS else f"分岐「{label}」"
        if label not in allowed and not (node.kind == "menu" and label not in msg.EXIT_LABELS):
            problems.append(f"{where}はこの種類のノードでは使えません。")
        elif not target:
            problems.append(f"{where}の行き先を選んでください。")
        elif target not in flow.nodes:
            problems.append(f"{where}の行き先「{target}」はありません。")
        elif node.kind == "goto" and flow.nodes[target].kind != "menu":
            problems.append(f"移動先「{flow.nodes[target].label}」は PB メニューではありません。")
    return problems


def guidance_problems(node: NodeSpec, guidance_ids: set[int] | None) -> list[str]:
    problems = []
    if node.kind in ("menu", "play") and not node.guidance:
        problems.append("ガイダンスを選んでください。" if node.kind == "play"
                        else "振り分けガイダンス【PB】を選んでください（ガイダンスのないメニューは使えません）。")
    if guidance_ids is not None:
        for label, gid in guidance_fields(node):
            if gid and gid not in guidance_ids:
                problems.append(f"{label}（ID {gid}）は登録されていません。")
    return problems


def _menu_problems(node: NodeSpec, _boxes) -> list[str]:
    problems = []
    if not 1 <= node.digits <= 20:
        problems.append("桁数は 1〜20 にしてください。")
    if not 1 <= node.timeout <= 60:
        problems.append("入力タイムアウトは 1〜60 秒にしてください。")
    if not 1 <= node.max_tries <= 10:
        problems.append("タイムアウトの上限回数は 1〜10 回にしてください。")
    if not 1 <= node.max_mis_entries <= 10:
        problems.append("入力ミスの上限回数は 1〜10 回にしてください。")
    branches = node.branches
    if not branches:
        problems.append("分岐（押された番号と行き先）を 1 つ以上設定してください。")
    for label in branches:
        if not BRANCH_DIGITS.match(label):
            problems.append(f"分岐「{label}」: 番号は 0〜9・*・# で入力してください。")
        elif len(label) != node.digits:
            problems.append(f"分岐「{label}」: 桁数（{node.digits} 桁）と合いません。")
    return problems


def _sms_problems(node: NodeSpec, boxes: set[int] | None) -> list[str]:
    box = node.param("box_number")
    if box in (None, ""):
        return ["蓄積BOXを選んでください。"]
    if boxes is not None and int(box) not in boxes:
        return [f"蓄積BOX {box} は登録されていません。"]
    return []


def _transfer_problems(node: NodeSpec, _boxes) -> list[str]:
    problems = []
    if not phone.is_complete(str(node.param("number", ""))):
        problems.append("転送先の電話番号を正しく入力してください（例: 0312345678 / +81312345678）。")
    if not 5 <= int(node.param("timeout", 30)) <= 120:
        problems.append("呼び出し時間は 5〜120 秒にしてください。")
    return problems


def _voicemail_problems(node: NodeSpec, _boxes) -> list[str]:
    if not 5 <= int(node.param("max_seconds", 120)) <= 600:
        return ["録音時間は 5〜600 秒にしてください。"]
    return []


def _hours_problems(node: NodeSpec, _boxes) -> list[str]:
    hours = Hours.from_params(node.params)
    problems = []
    if not hours.weekdays or any(d not in range(7) for d in hours.weekdays):
        problems.append("営業する曜日を 1 つ以上選んでください。")
    if not (CLOCK.match(hours.open) and CLOCK.match(hours.close)):
        problems.append("営業時間は HH:MM 形式で入力してください。")
    elif hours.open >= hours.close:
        problems.append("営業開始は営業終了より前にしてください。")
    return problems


KIND_CHECKS: dict[str, Callable[[NodeSpec, set[int] | None], list[str]]] = {
    "menu": _menu_problems, "sms": _sms_problems, "transfer": _transfer_problems,
    "voicemail": _voicemail_problems, "hours": _hours_problems,
}


def reachable_keys(flow: FlowSpec, start: str | None = None) -> set[str]:
    seen: set[str] = set()
    todo = [start or flow.entry]
    while todo:
        key = todo.pop()
        if key in seen or key not in flow.nodes:
            continue
        seen.add(key)
        todo.extend(flow.nodes[key].exits.values())
    return seen


def loop_without_input(flow: FlowSpec) -> list[str]:
    """Keys of nodes on a cycle that never waits for the caller (it would spin forever)."""
    passing = {k: [t for t in n.exits.values() if t in flow.nodes and flow.nodes[t].kind not in WAITING_KINDS]
               for k, n in flow.nodes.items() if n.kind not in WAITING_KINDS}
    on_cycle: set[str] = set()
    for key, targets in passing.items():
        if key in reachable_from(passing, targets):
            on_cycle.add(key)
    return sorted(on_cycle)


def reachable_from(graph: Mapping[str, list[str]], starts: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(graph.get(key, ()))
    return seen
