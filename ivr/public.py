"""What other packages may use from ivr.

    guidance_usage(guidance_id) -> [description]   registered with guidance: who plays a guidance
    caller_numbers(since, until) -> [E.164]        registered with sms: callers offered as bulk recipients
    menu_choice_names() -> {(node key, digits): name} what each menu digit leads to, for the report's menu tables
    Call, CallEvent, Node                          read models for reports (fields in docs/ARCHITECTURE.md);
                                                   read only: ivr alone writes and purges them
    PART_LABELS, OUTCOME_LABELS                    words for what was playing when a caller hung up, outcomes
    flow_choices() -> [(id, name, number)]         the flows, for the flow picture's choice
    flow_diagram(flow_id) -> Diagram | None        the flow as ivr's read-only picture draws it (ivr.diagram)
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from guidance import public as guidance_public
from ivr import diagram
from ivr.messages import OUTCOME_LABELS, PART_LABELS
from ivr.models import Call, CallEvent, Flow, Node
from ivr.spec import FlowSpec, guidance_fields

__all__ = ["OUTCOME_LABELS", "PART_LABELS", "Call", "CallEvent", "Node", "caller_numbers", "flow_choices",
           "flow_diagram", "flow_spec", "guidance_usage", "menu_choice_names"]


def flow_choices() -> list[tuple[int, str, str]]:
    """(id, name, dialled number) of every flow, by number."""
    return list(Flow.select(Flow.id, Flow.name, Flow.number).order_by(Flow.number, Flow.id).tuples())


def flow_spec(flow_id: int) -> FlowSpec | None:
    flow = Flow.get_or_none(Flow.id == flow_id)
    return flow.spec() if flow else None


def flow_diagram(flow_id: int) -> diagram.Diagram | None:
    """The flow as the read-only picture draws it (template macro `flow_diagram` of ivr/_diagram.html)."""
    spec = flow_spec(flow_id)
    if spec is None:
        return None
    return diagram.build(spec, dict(guidance_public.guidance_choices()))


def guidance_usage(guidance_id: int) -> list[str]:
    """Japanese descriptions of every node that plays the guidance, e.g. フロー「デモ」のノード「メインメニュー」（入力ミス時ガイダンス）."""
    found = []
    for node in Node.select(Node, Flow).join(Flow).order_by(Flow.name, Node.position):
        for label, gid in guidance_fields(node.spec()):
            if gid == guidance_id:
                found.append(f"フロー「{node.flow.name}」のノード「{node.label}」（{label}）")
    return found


def caller_numbers(since: dt.date | None = None, until: dt.date | None = None) -> list[str]:
    """Distinct caller numbers of the calls kept (those days only, when given), the latest caller first."""
    last_call = fn.MAX(Call.started_at)
    query = Call.select(Call.from_number, last_call.alias("last")).group_by(Call.from_number)
    if since:
        query = query.where(Call.started_at >= dt.datetime.combine(since, dt.time()))
    if until:
        query = query.where(Call.started_at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    return [number for number, _ in query.order_by(last_call.desc()).tuples() if number]


def menu_choice_names() -> dict[tuple[str, str], str]:
    """The node each menu digit leads to, by name: ("main", "1") -> "SMS送信". The report counts menus by node key
    over every flow, so a key whose digit leads to different places in two flows is left out rather than guessed."""
    names: dict[tuple[str, str], str] = {}
    ambiguous: set[tuple[str, str]] = set()
    for flow in Flow.select(Flow.id):
        nodes = {node.key: node for node in Node.select().where(Node.flow == flow.id)}
        for node in nodes.values():
            if node.kind != "menu":
                continue
            for digits, target in node.exit_map().items():
                if digits.isdigit() or digits in ("*", "#"):
                    key, name = (node.key, digits), nodes[target].label if target in nodes else target
                    if names.setdefault(key, name) != name:
                        ambiguous.add(key)
    return {key: name for key, name in names.items() if key not in ambiguous}
