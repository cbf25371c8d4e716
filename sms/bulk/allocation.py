"""Which messages of a bulk send the tickets pay for (R-44, R-45). Pure: no Flask, no database.

Tickets are spent recipient by recipient, and for each recipient message by message (002): with 10 recipients,
2 messages and 15 tickets, recipients 1–7 get both (14 tickets), the 8th gets the first message only, and the last
two get nothing ("チケット不足").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NO_TICKET_REASON = "チケット不足"
SHORT_TICKETS_MESSAGE = ("チケットが不足しているため配信できません（必要 {needed} 枚、残り {balance} 枚）。"
                         "チケットを追加してから、もう一度お試しください。")


@dataclass(frozen=True)
class Allocation:
    granted: list[tuple[bool | None, ...]]  # per recipient, per message: does a ticket pay for it
    needed: int
    used: int
    first_denied: tuple[int, int] | None  # (recipient index, message index) of the first slot left unpaid

    @property
    def denied(self) -> int:
        return self.needed - self.used

    def outcome(self, recipient: int) -> str:
        """all: every wanted message paid; partial: some; none: wanted messages but none paid; nothing: none wanted."""
        wanted = sum(1 for flag in self.granted[recipient] if flag is not None)
        paid = sum(1 for flag in self.granted[recipient] if flag)
        if wanted == 0:
            return "nothing"
        if paid == wanted:
            return "all"
        return "partial" if paid else "none"


def tickets_needed(wants: Sequence[Sequence[bool]]) -> int:
    """One ticket per message per recipient."""
    return sum(1 for row in wants for wanted in row if wanted)


def allocate(wants: Sequence[Sequence[bool]], tickets: int | None) -> Allocation:
    """Grant tickets in recipient order, message order; `tickets=None` means tickets are not in use (all granted).

    `wants[r][m]` says whether message m is to go to recipient r (a resend of failures may want only the second).
    In the result a slot that was not wanted is None, so "not wanted" and "not paid for" stay distinguishable.
    """
    left = tickets
    granted: list[tuple[bool | None, ...]] = []
    first_denied = None
    used = 0
    for r, row in enumerate(wants):
        flags = []
        for m, wanted in enumerate(row):
            if not wanted:
                flags.append(None)
            elif left is None or left > 0:
                flags.append(True)
                used += 1
                if left is not None:
                    left -= 1
            else:
                flags.append(False)
                if first_denied is None:
                    first_denied = (r, m)
        granted.append(tuple(flags))
    return Allocation(granted=granted, needed=tickets_needed(wants), used=used, first_denied=first_denied)


def shortage_message(needed: int, balance: int) -> str | None:
    """The refusal of R-44 when a send needs more tickets than are left; None when there are enough."""
    if needed <= balance:
        return None
    return SHORT_TICKETS_MESSAGE.format(needed=needed, balance=balance)
