"""The notification outbox: events become delivery rows in the announcer's transaction; the worker job claims
them under a lease and sends them.

Nothing is sent twice when a worker dies. A delivery is first claimed (state "claimed", a lease, committed);
just before the message leaves, the claim is turned into "sending" with `started_at` (committed). When a lease
runs out, a "claimed" delivery goes back to the queue (nothing left yet), while a "sending" one becomes
"unknown" (結果不明): it may have arrived, so it is not sent again by itself; staff may resend it from the log,
and the signed webhook's X-IVR-Delivery and the e-mail's Message-ID stay the same so receivers can drop a repeat.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import uuid
from typing import Any

from flask import current_app
from werkzeug.routing import BuildError

from core import audit, clock
from core.config import setting
from core.db import for_update_skip_locked, write_transaction
from core.tally import tally
from core.twilio import external_url
from notify import rules
from notify.messages import EVENT_PAGES, TEST, notice_for
from notify.models import Delivery, Destination, Event
from notify.senders import DeliveryError, Outgoing, send

log = logging.getLogger("notify.outbox")
WORKER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
UNKNOWN_REASON = "送信中に処理が止まったため、届いたかどうか分かりません（二重に送らないよう自動では再送しません）"


class RunReport(tally("sent", "retried", "failed", "held")):
    """What one delivery run did."""


# --- events in ------------------------------------------------------------------------------------------------
def record_event(kind: str, facts: dict[str, Any]) -> int:
    """The core.events sink: one event row and a delivery for each destination that wants `kind`, written in
    the caller's transaction. No destination wants it: nothing is written."""
    wanting = [d.id for d in Destination.select(Destination.id, Destination.events) if kind in d.event_kinds()]
    if not wanting:
        return 0
    now = clock.now()
    event = Event.create(kind=kind, at=now, facts=json.dumps(facts, ensure_ascii=False, default=str))
    Delivery.insert_many([{"event": event.id, "destination": d, "due_at": now, "created_at": now}
                          for d in wanting]).execute()
    return len(wanting)


def queue_test(destination: Destination) -> Delivery:
    """A test notification to one destination (sent even while it is paused or in its quiet hours)."""
    now = clock.now()
    event = Event.create(kind=TEST, at=now, facts=json.dumps({"destination": destination.name}, ensure_ascii=False))
    return Delivery.create(event=event.id, destination=destination.id, test=True, due_at=now, created_at=now)


def resend(delivery: Delivery) -> bool:
    """Staff send a failed or uncertain delivery again (same delivery id: receivers can tell a repeat)."""
    return Delivery.update(state="pending", due_at=clock.now(), attempts=0, started_at=None, finished_at=None,
                           claimed_by="", lease_until=None).where(
        (Delivery.id == delivery.id) & Delivery.state.in_(("failed", "unknown"))).execute() == 1


def resume(destination: Destination) -> None:
    """Unpause: the waiting deliveries go at once."""
    now = clock.now()
    Destination.update(paused_at=None, pause_reason="", consecutive_failures=0, updated_at=now).where(
        Destination.id == destination.id).execute()
    Delivery.update(due_at=now).where((Delivery.destination == destination.id) & (Delivery.state == "pending")
                                      & (Delivery.due_at > now)).execute()


# --- the job ----------------------------------------------------------------------------------------------------
def run_deliveries(limit: int = 100, worker: str = WORKER) -> RunReport:
    """Send what is due; the worker's job (never called on a webhook's path)."""
    report = RunReport()
    release_expired()
    done = 0
    while done < limit:
        claimed = claim_due(min(10, limit - done), worker)
        if not claimed:
            break
        done += len(claimed)
        for delivery_id in claimed:
            deliver(delivery_id, worker, report)
    return report


def release_expired(now: dt.datetime | None = None) -> None:
    """Leases that ran out: a claim not yet started goes back to the queue; a started one is uncertain."""
    now = now or clock.now()
    with write_transaction():
        Delivery.update(state="pending", claimed_by="", lease_until=None).where(
            (Delivery.state == "claimed") & (Delivery.lease_until < now)).execute()
        Delivery.update(state="unknown", finished_at=now, lease_until=None, last_error=UNKNOWN_REASON).where(
            (Delivery.state == "sending") & (Delivery.lease_until < now)).execute()


def lease_end(now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(seconds=setting("notify.lease_seconds"))


def claim_due(count: int, worker: str = WORKER) -> list[int]:
    """Claim up to `count` due deliveries (committed before anything is sent); a paused destination's wait,
    except tests."""
    now = clock.now()
    paused = Destination.select(Destination.id).where(Destination.paused_at.is_null(False))
    with write_transaction():
        query = (Delivery.select(Delivery.id)
                 .where((Delivery.state == "pending") & (Delivery.due_at <= now)
                        & (Delivery.destination.not_in(paused) | (Delivery.test == True)))
                 .order_by(Delivery.due_at, Delivery.id).limit(count))
        ids = [row.id for row in for_update_skip_locked(query)]
        if not ids:
            return []
        Delivery.update(state="claimed", claimed_by=worker, lease_until=lease_end(now)).where(
            Delivery.id.in_(ids) & (Delivery.state == "pending")).execute()
        return [row.id for row in Delivery.select(Delivery.id).where(
            Delivery.id.in_(ids) & (Delivery.claimed_by == worker) & (Delivery.state == "claimed"))]


def deliver(delivery_id: int, worker: str, report: RunReport) -> None:
    delivery = start(delivery_id, worker, report)
    if delivery is None:
        return
    destination = delivery.destination
    try:
        send(destination, outgoing_for(delivery))
        error = ""
    except DeliveryError as exc:
        error = str(exc)
    except Exception:  # a sender's bug must not stop the others; the log keeps the trace
        log.exception("notification %s to destination %s failed", delivery.id, destination.id)
        error = "送信中にエラーが発生しました"
    finish(delivery, destination, error, report)


def start(delivery_id: int, worker: str, report: RunReport) -> Delivery | None:
    """The point of no return: mark the claim as sending (committed), or hold it for quiet hours."""
    now = clock.now()
    with write_transaction():
        delivery = Delivery.get_or_none((Delivery.id == delivery_id) & (Delivery.claimed_by == worker)
                                        & (Delivery.state == "claimed"))
        if delivery is None:
            return None
        destination = delivery.destination
        hold = None if delivery.test else rules.quiet_until(now, destination.quiet_start, destination.quiet_end)
        if hold is not None:
            Delivery.update(state="pending", due_at=hold, claimed_by="", lease_until=None).where(
                Delivery.id == delivery_id).execute()
            report.held += 1
            return None
        Delivery.update(state="sending", started_at=now, attempts=Delivery.attempts + 1,
                        lease_until=lease_end(now)).where(
            (Delivery.id == delivery_id) & (Delivery.claimed_by == worker)).execute()
    return Delivery.get_by_id(delivery_id)


def finish(delivery: Delivery, destination: Destination, error: str, report: RunReport) -> None:
    now = clock.now()
    with write_transaction():
        if not error:
            Delivery.update(state="sent", finished_at=now, last_error="", lease_until=None).where(
                Delivery.id == delivery.id).execute()
            Destination.update(consecutive_failures=0).where(Destination.id == destination.id).execute()
            report.sent += 1
            return
        final = delivery.test or rules.gives_up(delivery.attempts, setting("notify.max_attempts"))
        changes = {"last_error": error[:300], "lease_until": None}
        if final:
            changes.update(state="failed", finished_at=now)
            report.failed += 1
        else:
            changes.update(state="pending", claimed_by="", due_at=now + rules.retry_delay(delivery.attempts))
            report.retried += 1
        Delivery.update(**changes).where(Delivery.id == delivery.id).execute()
        if not delivery.test:
            count_failure(destination, error, now)
    log.warning("notification %s to destination %s failed: %s", delivery.id, destination.id, error)


def count_failure(destination: Destination, error: str, now: dt.datetime) -> None:
    """One more failure in a row; past notify.pause_after_failures the destination is paused."""
    Destination.update(consecutive_failures=Destination.consecutive_failures + 1).where(
        Destination.id == destination.id).execute()
    fresh = Destination.get_by_id(destination.id)
    if fresh.paused_at is None and rules.pauses(fresh.consecutive_failures, setting("notify.pause_after_failures")):
        reason = f"{fresh.consecutive_failures} 回続けて送信に失敗したため停止しました（{error}）"
        Destination.update(paused_at=now, pause_reason=reason[:200]).where(Destination.id == destination.id).execute()
        audit.record("notify.destination.paused", fresh.name, {"destination_kind": fresh.kind}, actor="system")


# --- what is sent -----------------------------------------------------------------------------------------------
def outgoing_for(delivery: Delivery) -> Outgoing:
    event = delivery.event
    facts = json.loads(event.facts or "{}")
    link = page_link(event.kind)
    occurred = event.at.replace(tzinfo=clock.TOKYO).isoformat()
    return Outgoing(delivery.id, event.kind, occurred, notice_for(event.kind, facts, link), link, facts)


def page_link(kind: str) -> str:
    endpoint = EVENT_PAGES.get(kind)
    if not endpoint or endpoint not in current_app.view_functions:
        return ""
    try:
        return external_url(current_app.url_map.bind("").build(endpoint))
    except BuildError:
        return ""
