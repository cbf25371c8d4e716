"""What the report keeps and how it goes at the daily retention purge (R-52, core.retention): the published
aggregates by their day, the refresh history, each call's stored path (ivr and sms purge their records)."""
from __future__ import annotations

from flask import Flask

from core.retention import Expiry, delete_rows, register_retention
from ivr.public import Call
from reports.models import AGGREGATE_MODELS, CallPath, ReportRefresh


def purge_aggregates(expiry: Expiry) -> int:
    """Published days before the oldest kept day, and the refreshes that ran before it."""
    deleted = sum(delete_rows(model, model.day < expiry.before.date(), expiry) for model in AGGREGATE_MODELS)
    return deleted + delete_rows(ReportRefresh, ReportRefresh.run_at < expiry.before, expiry)


def purge_call_paths(expiry: Expiry) -> int:
    """The stored paths of expired calls. Usually none is left: a path goes with its call (its foreign key is
    ON DELETE CASCADE, so ivr's purge is never blocked by it); this covers a path whatever runs first."""
    expired_calls = Call.select(Call.id).where(Call.started_at < expiry.before)
    return delete_rows(CallPath, CallPath.call.in_(expired_calls), expiry)


def register(app: Flask) -> None:
    register_retention(app, "reports.aggregates", purge_aggregates, covers=(*AGGREGATE_MODELS, ReportRefresh))
    register_retention(app, "reports.call_paths", purge_call_paths, covers=(CallPath,))
