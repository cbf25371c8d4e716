"""Notifications (通知): events other packages announce through core.events reach the destinations staff set up
(e-mail, Slack-compatible chat, Microsoft Teams, Chatwork, a signed webhook for CRMs), sent by the worker."""
from __future__ import annotations


def init_app(app) -> None:
    """The destinations and delivery-log pages, the event sink, the webhook's format in the OpenAPI document,
    the delivery log's retention target and the audit log's words."""
    from core import audit
    from core.events import register_event_sink
    from core.openapi import add_webhooks
    from notify import outbox, retention, views
    from notify.messages import AUDIT_ACTIONS, AUDIT_FIELDS, EVENT_LABELS
    from notify.models import KIND_LABELS
    from notify.senders import WEBHOOK_SCHEMA, WEBHOOKS

    app.register_blueprint(views.bp)
    register_event_sink(app, "notify", outbox.record_event)
    add_webhooks(app, WEBHOOKS, WEBHOOK_SCHEMA)
    retention.register(app)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"destination_kind": KIND_LABELS, "events": EVENT_LABELS})


def register_jobs(registry, app) -> None:
    """The sender: due notifications every notify.interval_seconds."""
    from notify.outbox import run_deliveries

    registry.every("notify-deliver", app.config["SETTINGS"]["notify.interval_seconds"], run_deliveries,
                   description="通知の送信")
