"""IVR: call flows with PB routing, Twilio voice webhooks, call records, routing settings UI, call simulator."""
from __future__ import annotations


def init_app(app) -> None:
    """The Twilio webhooks (signature-checked, so CSRF-exempt), one `ivr` blueprint for the staff pages
    (editor, simulator, voicemails) and the simulator's upload limit, and what ivr offers the other packages
    (guidance users, callers, retention targets, the voicemail tile)."""
    from core import audit
    from core.extensions import csrf
    from core.routes import assemble
    from core.uploads import UploadRoute, register_upload_route
    from guidance import public as guidance_public
    from ivr import dashboard, editor, public, recordings, retention, simulator, views, voicemails, webhooks
    from ivr.messages import AUDIT_ACTIONS, AUDIT_FIELDS, CALLER_RULE_LABELS
    from sms import public as sms_public

    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)
    webhooks.install_shortcut(app)
    # Static files are served by web.assets, not by the blueprint.
    app.register_blueprint(assemble("ivr", __name__, [views.routes, editor.routes, simulator.routes, voicemails.routes,
                                                     recordings.routes],
                                    url_prefix="/ivr", template_folder="templates"))
    register_upload_route(app, UploadRoute("recording", r"/ivr/simulator/recording",
                                           lambda s: simulator.MAX_RECORDING_BYTES))
    guidance_public.register_usage_finder(public.guidance_usage)
    sms_public.register_caller_source(app, "ivr", public.caller_numbers)
    retention.register(app)
    dashboard.register(app)
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {"action": CALLER_RULE_LABELS})


def seed_defaults(app) -> None:
    """The demo flow of SPEC §11 on first start (idempotent)."""
    from ivr.demo import seed_demo_flow

    seed_demo_flow()
