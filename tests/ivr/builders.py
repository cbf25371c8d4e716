"""Flows for tests, as plain specs: the same shapes the webhook tests store in the database."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ivr.engine import Ports
from ivr.spec import FlowSpec, NodeSpec
from sms.rules import check_mobile


def node(key, kind, **kw) -> NodeSpec:
    kw.setdefault("name", key)
    return NodeSpec(key=key, kind=kind, **kw)


def spec(entry: str, *nodes: NodeSpec) -> FlowSpec:
    return FlowSpec(entry=entry, nodes={n.key: n for n in nodes})


def menu_flow(guidance: dict[str, int] | None = None, *, ask_number: bool = False, max_tries: int = 3) -> FlowSpec:
    """greeting → menu: 1 SMS box 1, 2 transfer, 3 hours branch; fallback closing."""
    g = guidance or {"greeting": 1, "menu": 2, "timeout": 3, "mis_entry": 4, "sent": 5, "closing": 6, "busy": 7,
                     "open": 8, "closed": 9, "ng": 10}
    return spec(
        "greeting",
        node("greeting", "play", name="挨拶", guidance=g["greeting"], exits={"next": "main"}),
        node("main", "menu", name="メインメニュー", guidance=g["menu"], timeout_guidance=g["timeout"],
             mis_entry_guidance=g["mis_entry"], max_tries=max_tries,
             exits={"1": "sms", "2": "operator", "3": "hours", "fallback": "closing"}),
        node("sms", "sms", name="SMS送信", guidance=g["sent"], params={"box_number": 1, "ask_number": ask_number},
             exits={"next": "bye", "cannot_send": "sms_ng"}),
        node("sms_ng", "play", name="SMS送信不可", guidance=g["ng"], exits={"next": "closing"}),
        node("operator", "transfer", name="オペレーター", params={"number": "+81312345678", "timeout": 20},
             exits={"no_answer": "busy"}),
        node("busy", "play", name="混雑", guidance=g["busy"], exits={"next": "closing"}),
        node("hours", "hours", name="営業時間", params={"hours": {"weekdays": [0, 1, 2, 3, 4], "open": "09:00",
                                                                  "close": "18:00"}},
             exits={"open": "open_msg", "closed": "closed_msg"}),
        node("open_msg", "play", guidance=g["open"], exits={"next": "closing"}),
        node("closed_msg", "play", guidance=g["closed"], exits={"next": "closing"}),
        node("closing", "hangup", name="終話", guidance=g["closing"]),
        node("bye", "hangup", name="切断"),
    )


@dataclass
class Sent:
    ok: bool = True
    code: str | None = None
    reason: str | None = None
    message_id: int | None = 1


@dataclass
class FakePorts:
    """The engine's outside world, recorded: SMS requested, the time and the holidays."""

    now: dt.datetime = dt.datetime(2026, 1, 5, 10, 0)
    holidays: dict = field(default_factory=lambda: {dt.date(2026, 1, 1): "元日"})
    refuse: str | None = None
    sent: list = field(default_factory=list)

    def ports(self) -> Ports:
        return Ports(now=self.now, holiday_name=self.holidays.get, check_mobile=check_mobile,
                     send_sms=self.send_sms)

    def send_sms(self, box, to, key):
        self.sent.append((box, to, key))
        if self.refuse:
            return Sent(False, self.refuse, "配信停止の申し出があった番号のため、送信できません。", None)
        return Sent()
