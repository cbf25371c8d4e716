"""Bulk SMS (R-40..R-47): recipients from callers, CSV or pasted numbers; one or two messages; tickets;
immediate or scheduled sends that survive restarts; progress, history and resend of failures; the bulk API."""
from __future__ import annotations

CSV_BYTES_PER_RECIPIENT = 320  # a bulk CSV row: the number plus a name, an address and a few more columns
JSON_BYTES_PER_RECIPIENT = 64  # a number in the bulk-send API's list, escapes and spacing included


def init_app(app) -> None:
    """Register the bulk pages (bulk.index, bulk.tickets, …), the API (/api/v1/bulk-sends, CSRF-exempt), their
    upload limits, the retention targets and the bulk tile."""
    from core import audit
    from core.extensions import csrf
    from core.openapi import add_api_paths
    from core.routes import assemble
    from core.uploads import API_LIMIT, UploadRoute, register_upload_route
    from sms.bulk import api, dashboard, retention, ticket_views, views
    from sms.bulk.models import AUDIT_ACTIONS, AUDIT_FIELDS, SOURCE_LABELS, STATUS_LABELS

    app.register_blueprint(assemble("bulk", __name__, [views.routes, ticket_views.routes], url_prefix="/bulk",
                                    template_folder="templates"))
    dashboard.register(app)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    add_api_paths(app, api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    register_upload_route(app, UploadRoute("bulk_csv", r"/bulk/(new|[0-9]+/recipients)",
                                           lambda s: s["bulk.max_recipients"] * CSV_BYTES_PER_RECIPIENT))
    register_upload_route(app, UploadRoute("bulk_api", r"/api/v1/bulk-sends",
                                           lambda s: s["bulk.max_recipients"] * JSON_BYTES_PER_RECIPIENT,
                                           headroom=API_LIMIT, content_type="application/json"))
    retention.register(app)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"source": SOURCE_LABELS, "was": STATUS_LABELS})


def register_jobs(registry, app) -> None:
    """One polling job; at start-up it also runs at once, so a send due while the process was down goes out then."""
    from sms.bulk.runner import poll

    registry.every("bulk-sends", app.config["SETTINGS"]["bulk.poll_seconds"], poll, run_at_start=True,
                   description="一括配信: 予約時刻の来た配信の開始と送信ボックスへの登録")
