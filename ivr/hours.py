"""Business hours of an hours-branch node (営業時間分岐): read from the node's params, and open or closed at a time."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ivr import messages as msg


@dataclass(frozen=True)
class Hours:
    """Weekdays (0 = Monday), [open, close) as HH:MM, and whether holidays are closed."""

    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    open: str = "09:00"
    close: str = "18:00"
    closed_on_holidays: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Hours:
        raw = params.get("hours") or {}
        return cls(weekdays=tuple(int(d) for d in raw.get("weekdays", (0, 1, 2, 3, 4))),
                   open=str(raw.get("open", "09:00")), close=str(raw.get("close", "18:00")),
                   closed_on_holidays=bool(raw.get("closed_on_holidays", True)))


def is_open(hours: Hours, now: dt.datetime, holiday_name: Callable[[dt.date], str | None]) -> tuple[bool, str]:
    """Whether the hours branch is open at `now`, and why (Japanese, for the call log)."""
    if hours.closed_on_holidays:
        name = holiday_name(now.date())
        if name:
            return False, f"休日（{name}）"
    if now.weekday() not in hours.weekdays:
        return False, f"営業日外（{msg.WEEKDAY_LABELS[now.weekday()]}曜日）"
    clock = now.strftime("%H:%M")
    if not hours.open <= clock < hours.close:
        return False, f"営業時間外（{clock}、営業 {hours.open}〜{hours.close}）"
    return True, f"営業時間内（{clock}）"
