"""A call's state between two webhooks: what the call waits for, the timeouts and mis-entries at the menu the
caller is in (counted apart, R-09b, and reset each time the caller enters a menu anew), the failures of the whole
call (the flow-level guard against endless loops), whether a menu was left through its retry-limit branch, and
the mobile number an SMS node is hearing. Each webhook reads it from the call's row (ivr.models.Call.state, JSON), the engine
returns a changed copy, and the webhook stores that.

The JSON is the shape calls have always been stored in, so a call that is live across a deploy goes on:
    {"caller": "+8190…", "tries": {"main": 1},
     "wait": {"node": "main", "mode": "menu"} | null,
     "entry": {"node": "sms", "tries": 0, "number": "090…" | null, "e164": "+8190…"} | null}
"e164" is present once a keyed-in number was accepted. "tries" counts timeouts (before issue 13 it counted
timeouts and mis-entries together; a live call's count goes on as timeouts). Keys added later are written only
when they differ from their default: "misses" {"main": 1} (mis-entries), "failures" 4, "retry_limited" true.
A missing key reads as its default, so a field added later reads from rows stored before it existed.
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
    tries: dict[str, int] = field(default_factory=dict)  # menu node key → timeouts in this visit of the menu
    wait: Wait | None = None                               # None: the call waits for nothing (it has ended)
    entry: NumberEntry | None = None
    misses: dict[str, int] = field(default_factory=dict)  # menu node key → mis-entries in this visit of the menu
    failures: int = 0                                      # timeouts and mis-entries of the whole call
    retry_limited: bool = False                            # a menu was left through its retry-limit branch

    def copy(self) -> CallState:
        """A copy the engine may change (Wait and NumberEntry are frozen, only the counts need their own dicts)."""
        return CallState(self.caller, dict(self.tries), self.wait, self.entry, dict(self.misses), self.failures,
                         self.retry_limited)

    def enter_menu(self, key: str) -> None:
        """The caller enters a menu anew: its counts start again (R-09b)."""
        self.tries.pop(key, None)
        self.misses.pop(key, None)

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
        out = {"caller": self.caller, "tries": self.tries, "wait": wait, "entry": entry}
        if self.misses:
            out["misses"] = self.misses
        if self.failures:
            out["failures"] = self.failures
        if self.retry_limited:
            out["retry_limited"] = True
        return out

    @classmethod
    def _from_dict(cls, data: Mapping[str, Any]) -> CallState:
        wait = data.get("wait")
        entry = data.get("entry")
        return cls(caller=data.get("caller") or "", tries=data.get("tries") or {},
                   wait=Wait(wait["node"], wait["mode"]) if wait else None,
                   entry=NumberEntry(entry["node"], entry.get("tries", 0), entry.get("number"), entry.get("e164"))
                   if entry else None,
                   misses=data.get("misses") or {}, failures=int(data.get("failures") or 0),
                   retry_limited=bool(data.get("retry_limited")))
