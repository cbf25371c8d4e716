"""The flows a new flow starts from (受付メニュー, 営業時間外案内, SMS 送信): shapes with generated IDs and no
guidance yet; the manager chooses or types each guidance on the picture before publishing. Pure."""
from __future__ import annotations

from collections.abc import Callable

from ivr.spec import FlowSpec, NodeSpec


def _flow(entry: str, *nodes: NodeSpec) -> FlowSpec:
    return FlowSpec(entry=entry, nodes={n.key: n for n in nodes})


def reception(box: int | None) -> FlowSpec:
    """Greeting → menu: 1 sends the SMS, 2 transfers to an operator; timeouts and mis-entries repeat the menu."""
    return _flow(
        "play1",
        NodeSpec("play1", "play", "挨拶", exits={"next": "menu1"}),
        NodeSpec("menu1", "menu", "メインメニュー", exits={"1": "sms1", "2": "transfer1", "fallback": "hangup1"}),
        NodeSpec("sms1", "sms", "SMS送信", params={"box_number": box, "ask_number": False},
                 exits={"next": "hangup2", "cannot_send": "hangup1"}),
        NodeSpec("transfer1", "transfer", "オペレーターへ転送", params={"number": "", "timeout": 30},
                 exits={"no_answer": "hangup1"}),
        NodeSpec("hangup1", "hangup", "終話"),
        NodeSpec("hangup2", "hangup", "SMS送信後の終話"),
    )


def after_hours(box: int | None) -> FlowSpec:
    """Business hours branch: open → menu guidance, closed → the out-of-hours guidance, then hang up."""
    return _flow(
        "hours1",
        NodeSpec("hours1", "hours", "営業時間の確認",
                 params={"hours": {"weekdays": [0, 1, 2, 3, 4], "open": "09:00", "close": "18:00",
                                   "closed_on_holidays": True}},
                 exits={"open": "play1", "closed": "play2"}),
        NodeSpec("play1", "play", "営業時間内の案内", exits={"next": "hangup1"}),
        NodeSpec("play2", "play", "営業時間外の案内", exits={"next": "hangup1"}),
        NodeSpec("hangup1", "hangup", "終話"),
    )


def sms_only(box: int | None) -> FlowSpec:
    """Greeting, then the storage box's SMS to the caller; a caller who cannot receive it hears why."""
    return _flow(
        "play1",
        NodeSpec("play1", "play", "挨拶", exits={"next": "sms1"}),
        NodeSpec("sms1", "sms", "SMS送信", params={"box_number": box, "ask_number": True},
                 exits={"next": "hangup1", "cannot_send": "play2"}),
        NodeSpec("play2", "play", "送信できない場合の案内", exits={"next": "hangup1"}),
        NodeSpec("hangup1", "hangup", "終話"),
    )


STARTERS: dict[str, tuple[str, str, Callable[[int | None], FlowSpec]]] = {
    "reception": ("受付メニュー", "挨拶のあと番号で振り分け（1: SMS 送信、2: オペレーターへ転送）", reception),
    "after_hours": ("営業時間外案内", "営業時間内と時間外・休日で案内を分ける", after_hours),
    "sms": ("SMS 送信", "挨拶のあと、かけてきた携帯電話に SMS を送る", sms_only),
}
