"""What other packages may use from ivr: who uses a guidance (for guidance's deletion guard).

reports reads ivr.models.Call and CallEvent directly (docs/ARCHITECTURE.md).
"""
from __future__ import annotations

from ivr.models import Flow, Node
from ivr.spec import guidance_fields


def guidance_usage(guidance_id: int) -> list[str]:
    """Japanese descriptions of every node that plays the guidance, e.g. フロー「デモ」のノード「メインメニュー」（入力ミス時ガイダンス）."""
    found = []
    for node in Node.select(Node, Flow).join(Flow).order_by(Flow.name, Node.position):
        for label, gid in guidance_fields(node.spec()):
            if gid == guidance_id:
                found.append(f"フロー「{node.flow.name}」のノード「{node.label}」（{label}）")
    return found
