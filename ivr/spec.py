"""Call flows as plain data: a flow is an entry key and nodes; a node has a kind, guidance ids, exits and params.

Flows are read from the database (ivr.models), built from the editor's rows (ivr.forms) or written in code
(ivr.demo, tests); validation (ivr.validation) and the engine (ivr.engine) take them as they are.
Nothing here touches Flask, the database or Twilio.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ivr import messages as msg

# Exits every node of a kind must have (a menu also needs at least one digit branch).
REQUIRED_EXITS: dict[str, tuple[str, ...]] = {
    "menu": ("fallback",),
    "play": ("next",),
    "sms": ("next", "cannot_send"),
    "transfer": ("no_answer",),
    "voicemail": (),
    "hours": ("open", "closed"),
    "goto": ("target",),
    "hangup": (),
}
# Nodes that wait for the caller or the network; a loop must pass through one of them.
WAITING_KINDS = ("menu", "transfer", "voicemail")


@dataclass(frozen=True)
class NodeSpec:
    key: str
    kind: str
    name: str = ""
    guidance: int | None = None            # menu prompt; played guidance; "sent" message; pre-transfer; voicemail prompt; closing
    timeout_guidance: int | None = None    # menu: 入力タイムアウト時ガイダンス
    mis_entry_guidance: int | None = None  # menu: 入力ミス時ガイダンス
    digits: int = 1
    timeout: int = 5
    max_tries: int = 3                     # menu: timeouts allowed in one visit (R-09b)
    max_mis_entries: int = 3               # menu: mis-entries allowed in one visit, counted apart
    exits: Mapping[str, str] = field(default_factory=dict)  # label (digits or exit name) → node key
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def branches(self) -> dict[str, str]:
        """A menu's digit branches."""
        return {label: target for label, target in self.exits.items() if label not in msg.EXIT_LABELS}

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value in (None, "") else value


@dataclass(frozen=True)
class FlowSpec:
    entry: str
    nodes: Mapping[str, NodeSpec]
    name: str = ""
    number: str = ""

    def node(self, key: str) -> NodeSpec:
        try:
            return self.nodes[key]
        except KeyError:
            raise FlowError(f"ノード「{key}」がフローにありません。") from None


class FlowError(Exception):
    """The flow cannot go on (a node vanished, a loop without input): the call ends politely."""


def guidance_fields(node: NodeSpec) -> list[tuple[str, int | None]]:
    """(Japanese field name, guidance id) of every guidance a node uses."""
    fields = [("ガイダンス", node.guidance)]
    if node.kind == "menu":
        fields = [("振り分けガイダンス【PB】", node.guidance), ("入力タイムアウト時ガイダンス", node.timeout_guidance),
                  ("入力ミス時ガイダンス", node.mis_entry_guidance)]
    if node.kind == "sms":
        fields = [("送信完了ガイダンス", node.guidance),
                  ("携帯番号入力ガイダンス", node.param("number_entry_guidance")),
                  ("番号エラー時ガイダンス", node.param("invalid_number_guidance"))]
    if node.kind == "transfer" and node.param("record"):
        fields.append(("録音のお知らせガイダンス", node.param("record_notice_guidance")))
    return [(label, int(gid) if gid else None) for label, gid in fields]
