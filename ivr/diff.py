"""What changed between two versions of a flow, in sentences a manager reads (nodes and branches added,
removed, changed). Pure: takes the specs and the guidance names."""
from __future__ import annotations

from ivr import messages as msg
from ivr.spec import FlowSpec, NodeSpec

SETTINGS = (("name", "名前"), ("kind", "種類"), ("digits", "桁数"), ("timeout", "入力タイムアウト（秒）"),
            ("max_tries", "リトライ回数"))
GUIDANCE = (("guidance", "ガイダンス"), ("timeout_guidance", "入力タイムアウト時ガイダンス"),
            ("mis_entry_guidance", "入力ミス時ガイダンス"))


def describe_changes(old: FlowSpec | None, new: FlowSpec, guidance_labels: dict[int, str] | None = None) -> list[str]:
    """Sentences for every difference; the first version says it is the first."""
    if old is None:
        return [f"最初の版（ノード {len(new.nodes)} 個）"]
    labels = guidance_labels or {}
    changes = []
    if old.entry != new.entry:
        changes.append(f"開始ノードを「{_name(old, old.entry)}」から「{_name(new, new.entry)}」に変更")
    for key, node in new.nodes.items():
        if key not in old.nodes:
            changes.append(f"ノード「{node.label}」（{msg.KIND_LABELS.get(node.kind, node.kind)}）を追加")
    for key, node in old.nodes.items():
        if key not in new.nodes:
            changes.append(f"ノード「{node.label}」を削除")
    for key, node in new.nodes.items():
        if key in old.nodes:
            changes += [f"ノード「{node.label}」: {text}" for text in node_changes(old, new, old.nodes[key], node, labels)]
    return changes or ["変更なし（同じ内容を公開）"]


def node_changes(old_flow: FlowSpec, new_flow: FlowSpec, old: NodeSpec, new: NodeSpec,
                 labels: dict[int, str]) -> list[str]:
    out = []
    for name, label in SETTINGS:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            if name == "kind":
                before, after = msg.KIND_LABELS.get(before, before), msg.KIND_LABELS.get(after, after)
            out.append(f"{label}を「{before}」から「{after}」に変更")
    for name, label in GUIDANCE:
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            out.append(f"{label}を「{_guidance(before, labels)}」から「{_guidance(after, labels)}」に変更")
    for exit_label in sorted(set(old.exits) | set(new.exits), key=lambda k: (k in msg.EXIT_LABELS, k)):
        what = f"「{msg.EXIT_LABELS[exit_label]}」" if exit_label in msg.EXIT_LABELS else f"分岐「{exit_label}」"
        before, after = old.exits.get(exit_label), new.exits.get(exit_label)
        if before == after:
            continue
        if before is None:
            out.append(f"{what}を追加（→ {_name(new_flow, after)}）")
        elif after is None:
            out.append(f"{what}を削除")
        else:
            out.append(f"{what}の行き先を「{_name(old_flow, before)}」から「{_name(new_flow, after)}」に変更")
    if dict(old.params) != dict(new.params):
        out.append("設定（蓄積BOX・転送先・営業時間など）を変更")
    extra = sorted(k for k in vars(new) if k not in {n for n, _ in SETTINGS + GUIDANCE}
                   and k not in ("key", "exits", "params") and getattr(old, k, None) != getattr(new, k))
    if extra:
        out.append("その他の設定（リトライなど）を変更")
    return out


def _name(flow: FlowSpec, key: str | None) -> str:
    node = flow.nodes.get(key or "")
    return node.label if node else (key or "なし")


def _guidance(gid: int | None, labels: dict[int, str]) -> str:
    return "なし" if not gid else labels.get(gid, f"ID {gid}")
