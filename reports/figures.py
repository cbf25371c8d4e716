"""The flow picture's figures: per node and per guidance of one flow, over a range of days, how many callers
reached it, pressed each digit, timed out, mis-keyed and hung up there (R-04), with the worst places marked.

Counted from the call records (ivr.public.Call, CallEvent) of the flow's calls started in the range, so they
add up with the call list, its CSV and /api/v1/calls. The picture itself is ivr's (ivr.public.flow_diagram); the
figures are laid over it by reports/static/flow_figures.js, which finds each node's box by its id and knows
nothing else of the picture's layout.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from peewee import fn

from ivr.public import PART_LABELS, Call, CallEvent
from reports.queries import day_bounds

WORST_MARKED = 3  # the nodes with most hang-ups that are marked on the picture


@dataclass
class NodeFigures:
    key: str
    name: str
    reached: int = 0
    digits: Counter = field(default_factory=Counter)
    timeouts: int = 0
    mis_entries: int = 0
    hangups: int = 0
    places: Counter = field(default_factory=Counter)  # (part, guidance name) → hang-ups
    worst_rank: int | None = None                       # 1 = most hang-ups of the flow

    @property
    def hangup_rate(self) -> float:
        return self.hangups / self.reached if self.reached else 0.0

    def as_dict(self) -> dict:
        return {
            "key": self.key, "name": self.name, "reached": self.reached, "timeouts": self.timeouts,
            "mis_entries": self.mis_entries, "hangups": self.hangups, "worst_rank": self.worst_rank,
            "hangup_rate": round(self.hangup_rate * 100, 1),
            "digits": [{"digit": digit, "count": count} for digit, count in sorted(self.digits.items())],
            "places": [{"part": part, "part_label": PART_LABELS.get(part, part), "guidance_name": guidance,
                        "count": count}
                       for (part, guidance), count in sorted(self.places.items(), key=lambda x: (-x[1], x[0]))],
        }


@dataclass
class FlowFigures:
    flow_id: int
    start: dt.date
    end: dt.date
    calls: int
    nodes: dict[str, NodeFigures]

    @property
    def worst(self) -> list[NodeFigures]:
        return sorted((n for n in self.nodes.values() if n.worst_rank), key=lambda n: n.worst_rank)

    def as_dict(self) -> dict:
        return {"flow_id": self.flow_id, "from": self.start.isoformat(), "to": self.end.isoformat(),
                "calls": self.calls, "nodes": {key: node.as_dict() for key, node in self.nodes.items()}}


def flow_figures(flow_id: int, menu_keys: set[str], names: dict[str, str], start: dt.date,
                 end: dt.date) -> FlowFigures:
    """Figures of the flow's calls started start..end; digits are counted at PB menus only (`menu_keys`):
    elsewhere the digits are a caller's mobile number."""
    low, high = day_bounds(start, end)
    of_flow = (Call.flow == flow_id) & (Call.started_at >= low) & (Call.started_at < high)
    nodes: dict[str, NodeFigures] = {}

    def node(key: str, name: str = "") -> NodeFigures:
        if key not in nodes:
            nodes[key] = NodeFigures(key, names.get(key) or name or key)
        return nodes[key]

    calls = Call.select(fn.COUNT(Call.id)).where(of_flow).scalar() or 0
    reached = (CallEvent.select(CallEvent.node_key, fn.MAX(CallEvent.node_name), fn.COUNT(CallEvent.call.distinct()))
               .join(Call).where(of_flow & (CallEvent.kind == "node")).group_by(CallEvent.node_key).tuples())
    for key, name, count in reached:
        node(key, name).reached = count
    keyed = (CallEvent.select(CallEvent.node_key, CallEvent.kind, CallEvent.digits, fn.COUNT(CallEvent.id))
             .join(Call).where(of_flow & CallEvent.kind.in_(("digit", "timeout", "mis_entry")))
             .group_by(CallEvent.node_key, CallEvent.kind, CallEvent.digits).tuples())
    for key, kind, digits, count in keyed:
        figures = node(key)
        if kind == "timeout":
            figures.timeouts += count
        elif kind == "mis_entry":
            figures.mis_entries += count
        elif key in menu_keys:
            figures.digits[digits or ""] += count
    hangups = (Call.select(Call.abandoned_node_key, fn.MAX(Call.abandoned_node_name), Call.abandoned_part,
                           Call.abandoned_guidance_name, fn.COUNT(Call.id))
               .where(of_flow & (Call.outcome == "abandoned"))
               .group_by(Call.abandoned_node_key, Call.abandoned_part, Call.abandoned_guidance_name).tuples())
    for key, name, part, guidance, count in hangups:
        figures = node(key or "", name or "")
        figures.hangups += count
        figures.places[(part or "unknown", guidance or "")] += count
    mark_worst(nodes.values())
    return FlowFigures(flow_id, start, end, calls, nodes)


def mark_worst(nodes) -> None:
    """Rank the nodes with most hang-ups (ties: the higher rate first), WORST_MARKED of them."""
    ranked = sorted((n for n in nodes if n.hangups), key=lambda n: (-n.hangups, -n.hangup_rate, n.key))
    for rank, figures in enumerate(ranked[:WORST_MARKED], start=1):
        figures.worst_rank = rank
