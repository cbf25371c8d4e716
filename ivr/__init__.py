"""IVR: call flows with PB routing, Twilio voice webhooks, call records, routing settings UI, call simulator."""
from __future__ import annotations


def init_app(app) -> None:
    """Register the staff pages and the Twilio webhooks (signature-checked, so CSRF-exempt)."""
    from core import audit
    from core.extensions import csrf
    from guidance import public as guidance_public
    from ivr import dashboard, public, views, webhooks
    from ivr.messages import AUDIT_ACTIONS, AUDIT_FIELDS, CALLER_RULE_LABELS

    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)
    webhooks.install_shortcut(app)
    app.register_blueprint(views.bp)
    guidance_public.register_usage_finder(public.guidance_usage)
    dashboard.register(app)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"action": CALLER_RULE_LABELS})


def register_jobs(registry, app) -> None:
    from ivr.simulator import sweep_recordings

    registry.daily("ivr.sweep_simulator_recordings", "03:40", sweep_recordings,
                   description="保存期間を過ぎたシミュレーター録音の削除")


def seed_defaults(app) -> None:
    """The demo flow of SPEC §11 on first start (idempotent)."""
    from ivr.demo import seed_demo_flow

    seed_demo_flow()
