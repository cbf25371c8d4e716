"""The inbound-call / SMS report (着信・SMS送信レポート): 13:00 refresh, 90-day retention, charts, CSV, API."""
from __future__ import annotations


def init_app(app) -> None:
    from core.extensions import csrf
    from reports import api, dashboard, views

    app.register_blueprint(views.bp)
    dashboard.register(app)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)
    api.document(app)


def register_jobs(registry, app) -> None:
    from reports import jobs

    jobs.register(registry, app)
