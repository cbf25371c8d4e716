"""Bulk SMS (R-40..R-47): recipients from callers, CSV or pasted numbers; one or two messages; tickets;
immediate or scheduled sends that survive restarts; progress, history and resend of failures; the bulk API."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the bulk pages (bulk.index, bulk.tickets, …) and the API (/api/v1/bulk-sends, CSRF-exempt)."""
    from core import audit
    from core.extensions import csrf
    from core.openapi import add_api_paths
    from sms.bulk import api, dashboard, views
    from sms.bulk.models import AUDIT_ACTIONS, AUDIT_FIELDS, SOURCE_LABELS, STATUS_LABELS

    app.register_blueprint(views.bp)
    dashboard.register(app)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    add_api_paths(app, api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"source": SOURCE_LABELS, "was": STATUS_LABELS})


def register_jobs(registry, app) -> None:
    """One polling job; at start-up it also runs at once, so a send due while the process was down goes out then."""
    from sms.bulk.runner import poll

    registry.every("bulk-sends", app.config["SETTINGS"]["bulk.poll_seconds"], poll, run_at_start=True,
                   description="一括配信: 予約時刻の来た配信の開始と送信ボックスへの登録")
