"""SMS: storage boxes, validation, outbox and dispatch, receipts and resends, opt-out, short links, log, API."""
from __future__ import annotations

DEMO_BOX = {
    "number": 1,
    "name": "お問い合わせ案内",
    "body": "お電話ありがとうございます。お問い合わせの詳細は下記URLからご確認いただけます。\n{url}\n"
            "配信停止をご希望の方はこちら: {optout_url}",
    "url": "https://example.jp/support",
}


def init_app(app) -> None:
    """The SMS pages (one `sms` blueprint: boxes, and the log, outbox and opt-out pages), the public
    short-link and opt-out pages, the status webhook and the API (both CSRF-exempt), the "sms" channel,
    the retention targets and the SMS tile."""
    from core import audit
    from core.channels import register_channel
    from core.extensions import csrf, register_public_paths
    from core.openapi import add_api_paths
    from core.routes import assemble
    from sms import api, dashboard, individual, log_views, providers, public_views, retention, views
    from sms.carriers import carrier_label
    from sms.models import AUDIT_ACTIONS, AUDIT_FIELDS, OPTOUT_VIA_LABELS

    # Static files are served by web.assets, not by the blueprint.
    app.register_blueprint(assemble("sms", __name__, [views.routes, log_views.routes, individual.routes], url_prefix="/sms",
                                    template_folder="templates"))
    app.register_blueprint(public_views.bp)
    register_public_paths(app, "/s/", "/optout/")  # public_views: short links and opt-out, for recipients
    app.register_blueprint(public_views.webhooks)
    app.register_blueprint(api.bp)
    csrf.exempt(public_views.webhooks)
    csrf.exempt(api.bp)
    add_api_paths(app, api.OPENAPI_PATHS, api.OPENAPI_SCHEMAS)
    register_channel(app, "sms", providers.configured_provider)
    app.add_template_filter(carrier_label, "carrier")
    retention.register(app)
    dashboard.register(app)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"body": audit.before_after, "url": audit.before_after,
                                                      "via": OPTOUT_VIA_LABELS, "was_via": OPTOUT_VIA_LABELS})


def register_jobs(registry, app) -> None:
    """The dispatcher (sends, resends, receipts the provider holds), the status timeout (R-29) and the monthly
    billing close (R-31)."""
    from sms.billing import BILLING_CLOSE_TIME, close_billing
    from sms.outbox import dispatch_due
    from sms.receipts import expire_stale

    interval = app.config["SETTINGS"]["sms.dispatch_interval_seconds"]
    registry.every("sms-dispatch", interval, dispatch_due, description="SMS 送信・再送")
    registry.every("sms-timeouts", 300, expire_stale, run_at_start=True, description="SMS 配信状況のタイムアウト")
    registry.daily("sms-billing-close", BILLING_CLOSE_TIME, close_billing, run_at_start=True,
                   description="SMS の月別課金件数の確定（毎月の第1営業日）")


def seed_defaults(app) -> None:
    """Storage box 1 (the demo flow's "1" sends it), created once and never overwritten."""
    from core import clock
    from sms.models import StorageBox

    if StorageBox.select().where(StorageBox.number == DEMO_BOX["number"]).exists():
        return
    now = clock.now()
    StorageBox.create(**DEMO_BOX, created_at=now, updated_at=now, updated_by="system")
