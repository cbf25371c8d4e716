"""A flow as a tree for the page: each node once, later mentions as links back (loops stay readable)."""
from __future__ import annotations

from dataclasses import dataclass, field

from core import phone
from ivr.hours import Hours
from ivr.messages import EXIT_LABELS, KIND_LABELS
from ivr.spec import FlowSpec, NodeSpec, guidance_fields

EXIT_ORDER = ("next", "open", "closed", "cannot_send", "no_answer", "target", "fallback")


@dataclass
class TreeNode:
    key: str
    name: str
    kind: str
    via: str = ""                 # the edge that leads here: "1", "リトライ上限時", …
    guidance: list[str] = field(default_factory=list)
    summary: str = ""
    ref: bool = False             # already drawn above: shown as a link, not expanded again
    missing: bool = False         # the edge points at a node that does not exist
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Diagram:
    root: TreeNode | None
    unreachable: list[TreeNode]


def ordered_exits(node: NodeSpec) -> list[tuple[str, str]]:
    """(edge label, target) with digits first in keypad order, then the named exits."""
    digits = sorted(node.branches.items(), key=lambda item: (len(item[0]), item[0]))
    named = [(EXIT_LABELS[name], node.exits[name]) for name in EXIT_ORDER if node.exits.get(name)]
    return [(f"「{d}」", target) for d, target in digits] + named


def summary(node: NodeSpec) -> str:
    if node.kind == "menu":
        return f"{node.digits}桁・{node.timeout}秒・タイムアウト{node.max_tries}回・入力ミス{node.max_mis_entries}回"
    if node.kind == "sms":
        extra = "・番号ヒアリングあり" if node.param("ask_number") else ""
        return f"蓄積BOX {node.param('box_number', '?')}{extra}"
    if node.kind == "transfer":
        return f"{phone.display(str(node.param('number', '')))}（{node.param('timeout', 30)}秒）"
    if node.kind == "hours":
        hours = Hours.from_params(node.params)
        days = "".join("月火水木金土日"[d] for d in hours.weekdays)
        return f"{days} {hours.open}〜{hours.close}" + ("・祝休" if hours.closed_on_holidays else "")
    if node.kind == "voicemail":
        return f"最大{node.param('max_seconds', 120)}秒"
    return ""


def build(flow: FlowSpec, guidance_labels: dict[int, str] | None = None) -> Diagram:
    labels = guidance_labels or {}
    drawn: set[str] = set()

    def tree(key: str, via: str) -> TreeNode:
        node = flow.nodes.get(key)
        if node is None:
            return TreeNode(key, key, "", via=via, missing=True)
        item = TreeNode(node.key, node.label, node.kind, via=via, summary=summary(node),
                        guidance=[labels.get(gid, f"ID {gid}") for _, gid in guidance_fields(node) if gid])
        if key in drawn:
            item.ref = True
            return item
        drawn.add(key)
        item.children = [tree(target, label) for label, target in ordered_exits(node)]
        return item

    root = tree(flow.entry, "開始") if flow.entry in flow.nodes else None
    unreachable = [tree(key, "") for key in flow.nodes if key not in drawn]
    return Diagram(root, unreachable)
