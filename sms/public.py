"""What other packages may use from sms (docs/ARCHITECTURE.md): ivr and reports import only this.

`Message` is exported as a read model: reports reads its fields (fixed in docs/ARCHITECTURE.md), never writes.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask

from core import registry
from core.phone import NumberCheck, check_mobile  # the R-21 rules, shared by every package
from sms.models import STATE_LABELS, Message, StorageBox
from sms.sending import SendResult, queue_box

__all__ = ["CallerSource", "Message", "NumberCheck", "SendResult", "box_choices", "caller_numbers",
           "check_mobile", "messages_for_call", "register_caller_source", "send_box_to_caller"]

# (since, until) → the distinct numbers that called in those days (either end open), most recent caller first.
CallerSource = Callable[[dt.date | None, dt.date | None], list[str]]


def send_box_to_caller(box_number, to_number, *, call_sid, idempotency_key, source="ivr") -> SendResult:
    """Queue storage box `box_number` to the caller; no provider call inline (the dispatcher sends it).

    Idempotent per `idempotency_key`: a repeated webhook gets the first result. Refusal codes:
    not_mobile, withheld, opted_out, no_ticket, no_box (and invalid_text if the box text became unsendable).
    """
    return queue_box(box_number, to_number, source=source, call_sid=call_sid, idempotency_key=idempotency_key,
                     created_by=source)


def box_choices() -> list[tuple[int, str]]:
    """(box number, label) of every storage box, for editor dropdowns."""
    return [(box.number, box.label) for box in StorageBox.select().order_by(StorageBox.number)]


def messages_for_call(call_sid: str) -> list[dict]:
    """The SMS a call queued, oldest first: id, to_number (E.164), body, state (and its Japanese state_label),
    parts, box_number."""
    query = (Message.select(Message.id, Message.to_number, Message.body, Message.state, Message.parts,
                            Message.box_number)
             .where(Message.call_sid == call_sid).order_by(Message.id))
    return [{**row, "state_label": STATE_LABELS.get(row["state"], row["state"])} for row in query.dicts()]


def register_caller_source(app: Flask, name: str, source: CallerSource) -> None:
    """Let a package offer the numbers that called it as bulk recipients (ivr offers its callers)."""
    registry.add(app, "sms.caller_sources", name, source)


def caller_numbers(since: dt.date | None = None, until: dt.date | None = None) -> list[str]:
    """Every registered source's callers, most recent first within a source, each number once."""
    found: dict[str, None] = {}
    for source in registry.entries("sms.caller_sources").values():
        found.update(dict.fromkeys(source(since, until)))
    return list(found)
