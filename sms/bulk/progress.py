"""The progress bar's figures (R-47): sent / delivered / failed / remaining of a bulk send. Pure."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Outbox states (sms.models.Message.state) by bar segment.
REMAINING_STATES = ("queued",)
SENT_STATES = ("sending", "resend_wait", "unknown")
# Slots with no outbox row: still to be moved into the outbox, or never to be sent.
REMAINING_SLOTS = ("pending",)
FAILED_SLOTS = ("no_ticket", "error")


@dataclass(frozen=True)
class Progress:
    total: int
    remaining: int  # not yet handed to the carrier
    sent: int       # handed over, no final receipt yet (or none came: 状態不明)
    delivered: int
    failed: int     # failure receipts, refusals (opted out), and messages no ticket paid for

    @property
    def done(self) -> int:
        return self.total - self.remaining

    @property
    def percent(self) -> int:
        """How far the bar is filled: everything handed over (or failed) is done."""
        return 100 if self.total == 0 else int(self.done * 100 // self.total)

    def share(self, part: int) -> float:
        return 0.0 if self.total == 0 else round(part * 100 / self.total, 2)

    def as_dict(self) -> dict:
        return {"total": self.total, "remaining": self.remaining, "sent": self.sent, "delivered": self.delivered,
                "failed": self.failed, "percent": self.percent}


def summarise(message_states: Mapping[str, int], open_slots: Mapping[str, int]) -> Progress:
    """`message_states`: outbox rows of the send by state; `open_slots`: slots without an outbox row, by slot state."""
    remaining = sum(message_states.get(s, 0) for s in REMAINING_STATES) + sum(open_slots.get(s, 0) for s in REMAINING_SLOTS)
    sent = sum(message_states.get(s, 0) for s in SENT_STATES)
    delivered = message_states.get("delivered", 0)
    failed = message_states.get("failed", 0) + sum(open_slots.get(s, 0) for s in FAILED_SLOTS)
    return Progress(total=remaining + sent + delivered + failed, remaining=remaining, sent=sent, delivered=delivered,
                    failed=failed)
