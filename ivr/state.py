"""A call's state between two webhooks: what the call waits for, the failed tries per menu, and the mobile number
an SMS node is hearing. Each webhook reads it from the call's row (ivr.models.Call.state, JSON), the engine
returns a changed copy, and the webhook stores that.

The JSON is the shape calls have always been stored in, so a call that is live across a deploy goes on:
    {"caller": "+8190…", "tries": {"main": 1},
     "wait": {"node": "main", "mode": "menu"} | null,
     "entry": {"node": "sms", "tries": 0, "number": "090…" | null, "e164": "+8190…"} | null}
"e164" is present once a keyed-in number was accepted. A missing key reads as its default, so a field added
later (with a default) reads from rows stored before it existed.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# menu, number and confirm wait for keys; dial for a transfer to end; record for a voicemail to end.
WaitMode = Literal["menu", "number", "confirm", "dial", "record"]


@dataclass(frozen=True)
class Wait:
    """The node whose verb the call is performing, and what the next webhook will report."""

    node: str
    mode: WaitMode


@dataclass(frozen=True)
class NumberEntry:
    """An SMS node hearing the caller's mobile number (R-09): failed tries, the number keyed in, its E.164 form."""

    node: str
    tries: int = 0
    number: str | None = None  # keyed in and being confirmed; None while (re-)entering
    e164: str | None = None


@dataclass
class CallState:
    caller: str = ""
    tries: dict[str, int] = field(default_factory=dict)  # menu node key → failed tries so far in this call
    wait: Wait | None = None                               # None: the call waits for nothing (it has ended)
    entry: NumberEntry | None = None

    def copy(self) -> CallState:
        """A copy the engine may change (Wait and NumberEntry are frozen, only `tries` needs its own dict)."""
        return CallState(self.caller, dict(self.tries), self.wait, self.entry)

    def to_json(self) -> str:
        return json.dumps(self._to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> CallState:
        return cls._from_dict(json.loads(text or "{}"))

    def _to_dict(self) -> dict[str, Any]:
        wait = {"node": self.wait.node, "mode": self.wait.mode} if self.wait else None
        entry = None
        if self.entry:
            entry = {"node": self.entry.node, "tries": self.entry.tries, "number": self.entry.number}
            if self.entry.e164 is not None:
                entry["e164"] = self.entry.e164
        return {"caller": self.caller, "tries": self.tries, "wait": wait, "entry": entry}

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> CallState:
        wait = data.get("wait")
        entry = data.get("entry")
        return cls(caller=data.get("caller") or "", tries=data.get("tries") or {},
                   wait=Wait(wait["node"], wait["mode"]) if wait else None,
                   entry=NumberEntry(entry["node"], entry.get("tries", 0), entry.get("number"), entry.get("e164"))
                   if entry else None)
