"""R-52 for notifications: events (their facts name callers and recipients) and their deliveries go after the
retention period (reports.retention_days, 90 days), the delivery log with them."""
from __future__ import annotations

from core.retention import Expiry, delete_rows, register_retention
from notify.models import Delivery, Event


def purge_events(expiry: Expiry) -> int:
    return delete_rows(Event, Event.at < expiry.before, expiry, children=[Delivery.event])


def register(app) -> None:
    register_retention(app, "notify.deliveries", purge_events, covers=[Event, Delivery])
