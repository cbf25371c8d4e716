"""R-52 retention: records older than reports.retention_days are deleted every day, in small batches.

Each batch is its own short transaction, so the webhooks writing calls and messages never wait
long for the purge. Rows that reference a purged row (call events, SMS clicks, ...) go first:
they are found through the models' foreign keys, so a table another package adds later is
purged with its parent instead of blocking the delete.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from peewee import Field, Model

from core import clock
from core.config import setting
from core.db import database

log = logging.getLogger("reports.retention")


def oldest_kept_day(today: dt.date, retention_days: int) -> dt.date:
    """With 90 days' retention, the day 90 days ago is kept and the day 91 days ago is deleted."""
    return today - dt.timedelta(days=retention_days)


def purge_before(today: dt.date, retention_days: int) -> dt.datetime:
    """Timestamps strictly before this moment are deleted."""
    return dt.datetime.combine(oldest_kept_day(today, retention_days), dt.time.min)


def purge_in_batches(take_batch: Callable[[int], list], delete_batch: Callable[[list], int], batch_size: int,
                     transaction: Callable) -> int:
    """Repeat "take up to batch_size keys, delete them" each in its own transaction; returns rows deleted."""
    deleted = 0
    while True:
        with transaction():
            keys = take_batch(batch_size)
            if keys:
                deleted += delete_batch(keys)
        if len(keys) < batch_size:
            return deleted


@dataclass(frozen=True)
class PurgeTarget:
    """A table whose rows expire by one date or timestamp column."""

    model: type[Model]
    stamp: Field

    def expired(self, before: dt.datetime):
        limit = before.date() if self.stamp.field_type == "DATE" else before
        return self.stamp < limit


def delete_with_dependents(model: type[Model], keys: list) -> int:
    """Delete rows of `model` by primary key after every row that references them (recursively)."""
    for fk in model._meta.backrefs:
        child = fk.model
        child_keys = [row[0] for row in child.select(child._meta.primary_key).where(fk << keys).tuples()]
        if child_keys:
            delete_with_dependents(child, child_keys)
    return model.delete().where(model._meta.primary_key << keys).execute()


def purge_target(target: PurgeTarget, before: dt.datetime, batch_size: int) -> int:
    model, key = target.model, target.model._meta.primary_key

    def take_batch(size: int) -> list:
        query = model.select(key).where(target.expired(before)).order_by(key).limit(size)
        return [row[0] for row in query.tuples()]

    return purge_in_batches(take_batch, lambda keys: delete_with_dependents(model, keys), batch_size,
                            database.atomic)


def purge_targets() -> list[PurgeTarget]:
    """Calls (with their events), SMS messages (with their clicks), the published aggregates, old refreshes."""
    from reports.models import AGGREGATE_MODELS, ReportRefresh
    from reports.queries import expiring_sources

    return [*expiring_sources(), *(PurgeTarget(model, model.day) for model in AGGREGATE_MODELS),
            PurgeTarget(ReportRefresh, ReportRefresh.run_at)]


def purge_expired(today: dt.date | None = None) -> dict[str, int]:
    """The daily job: delete everything older than the retention period; returns rows deleted per table."""
    today = today or clock.today()
    before = purge_before(today, setting("reports.retention_days"))
    batch = setting("reports.purge_batch")
    counts = {}
    for target in purge_targets():
        counts[target.model._meta.table_name] = purge_target(target, before, batch)
    log.info("retention purge before %s: %s", before, counts)
    return counts
