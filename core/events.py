"""Events worth telling staff about (a voicemail left, a caller who gave up, a failed SMS…): the kinds, and the
one way a package announces one.

The package that knows something happened calls `announce(kind, facts)` inside the transaction that records
it; whoever listens (the notify package registers a sink in its init_app) writes its own rows in that same
transaction, so an event is kept exactly when the record it is about is. Nothing is sent here: delivery is the
listener's worker job, never the request that announced. With no listener registered, `announce` does nothing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, has_app_context

from core import registry

REGISTRY = "event_sinks"

VOICEMAIL_LEFT = "voicemail.left"
CALL_ABANDONED = "call.abandoned"
RETRY_LIMIT_REACHED = "call.retry_limit"
SMS_FAILED = "sms.failed"
BULK_FINISHED = "bulk.finished"
REPORT_PUBLISHED = "report.published"
KINDS = (VOICEMAIL_LEFT, CALL_ABANDONED, RETRY_LIMIT_REACHED, SMS_FAILED, BULK_FINISHED, REPORT_PUBLISHED)

Facts = Mapping[str, Any]  # JSON values: what the event is about (numbers, names, counts)
Sink = Callable[[str, Facts], None]


def register_event_sink(app: Flask, name: str, sink: Sink) -> None:
    """`sink(kind, facts)` is called for every announced event, inside the announcer's transaction."""
    registry.add(app, REGISTRY, name, sink)


def announce(kind: str, facts: Facts) -> None:
    """Tell the listeners that `kind` happened; call it inside the transaction that records the fact."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    if not has_app_context():
        return
    for sink in registry.entries(REGISTRY, current_app).values():
        sink(kind, dict(facts))
