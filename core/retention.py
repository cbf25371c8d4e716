"""R-52 retention: records older than the retention period (reports.retention_days, 90) are deleted every day.

Each feature package registers, in its init_app, what it keeps and how old rows of it go: a named target with
a purge function and the models or columns it empties. `purge_expired`, the daily job, runs every target in
registration order; a target deletes in small batches by primary-key ranges, each its own short transaction with
a pause after it, so the webhooks writing calls and messages never wait long. A test derives from the models every column that may hold a phone number
or message text and checks that some target covers it (tests/foundation/test_retention_coverage.py).
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from peewee import SQL, Field, Model, Select, fn

from core import clock, registry
from core.config import setting
from core.db import checkpoint_wal, is_sqlite, write_transaction

log = logging.getLogger("core.retention")
PURGE_JOB = "retention-purge"
REGISTRY = "retention"


@dataclass(frozen=True)
class Expiry:
    """What a purge deletes: all stamped strictly before `before`; at most `batch_size` rows a transaction."""

    before: dt.datetime
    batch_size: int


Purge = Callable[[Expiry], int]  # deletes what expired; returns how many rows (or files) went


@dataclass(frozen=True)
class RetentionTarget:
    name: str
    purge: Purge
    covers: tuple[Field, ...]  # the columns whose old rows this target deletes


def register_retention(app: Flask, name: str, purge: Purge, *,
                       covers: Iterable[type[Model] | Field] = ()) -> None:
    """Add a target ("sms.messages"); `covers`: the models (all their columns) or the columns it empties."""
    columns = tuple(column for item in covers
                    for column in (item._meta.sorted_fields if isinstance(item, type) else [item]))
    registry.add(app, REGISTRY, name, RetentionTarget(name, purge, columns))


def retention_targets(app: Flask | None = None) -> list[RetentionTarget]:
    return list(registry.entries(REGISTRY, app).values())


def oldest_kept_day(today: dt.date, retention_days: int) -> dt.date:
    """With 90 days' retention, the day 90 days ago is kept and the day 91 days ago is deleted."""
    return today - dt.timedelta(days=retention_days)


def purge_before(today: dt.date, retention_days: int) -> dt.datetime:
    """Timestamps strictly before this moment are deleted."""
    return dt.datetime.combine(oldest_kept_day(today, retention_days), dt.time.min)


def current_expiry(today: dt.date | None = None) -> Expiry:
    return Expiry(purge_before(today or clock.today(), setting("reports.retention_days")),
                  setting("reports.purge_batch"))


def purge_expired(today: dt.date | None = None) -> dict[str, int | str]:
    """The daily job: every target deletes what is older than the retention period; rows deleted per target.

    A target that fails is logged and reported as "error"; the others still run (it runs again tomorrow)."""
    expiry = current_expiry(today)
    counts: dict[str, int | str] = {}
    for target in retention_targets():
        try:
            counts[target.name] = target.purge(expiry)
        except Exception:
            log.exception("retention target %s failed", target.name)
            counts[target.name] = "error"
    log.info("retention purge before %s: %s", expiry.before, counts)
    return counts


# A batch's transaction holds its rows (PostgreSQL) or the whole database (SQLite) while it runs, and a webhook
# that writes waits for it. So a batch is small (reports.purge_batch, 1,000 by default) and its transaction does
# nothing but delete: the range of primary keys it covers is found before, by a read (no lock; on SQLite, WAL
# readers never wait), and the deletes name that range, not a list of keys (no thousand parameters built in
# Python, holding the interpreter the webhooks' threads need). Each batch is followed by a pause as long as it
# took, so writers waiting for it go first and the purge takes at most half of the writer's time. Keys only go
# up from batch to batch: no batch reads again past the rows the ones before it deleted (on PostgreSQL they
# stay in the indexes, dead, until vacuumed). Measured by bench/bench_retention.py.


SQLITE_BATCH_ROWS = 200  # bench_retention, 1,000,000 rows on SQLite: ~80 ms a batch of 1,000 on the loaded machine


@dataclass(frozen=True)
class KeyRange:
    """The next batch: expired rows whose primary key is past `after` (None: from the first) up to `upto`."""

    after: object | None
    upto: object
    rows: int  # expired rows in it when it was found


def purge_in_batches(next_range: Callable[[object | None, int], KeyRange | None],
                     delete_range: Callable[[KeyRange], int], batch_size: int, transaction: Callable) -> int:
    """Repeat "find the next range of up to batch_size expired rows, delete it in its own short transaction,
    pause", each range starting past the one before, until a range is short or none is left; rows deleted."""
    deleted, after = 0, None
    while True:
        started = time.monotonic()
        batch = next_range(after, batch_size)
        if batch is None:
            return deleted
        with transaction():
            deleted += delete_range(batch)
        if batch.rows < batch_size:
            return deleted
        after = batch.upto
        time.sleep(time.monotonic() - started)


def delete_rows(model: type[Model], expired, expiry: Expiry, *, children: Sequence[Field] = ()) -> int:
    """Delete the rows of `model` matching `expired`, in batches by ranges of its primary key; the rows of the
    owner's child tables that reference them (the foreign keys in `children`) go first, in the same transaction."""
    key = model._meta.primary_key

    def window(after, upto=None):
        condition = expired if after is None else expired & (key > after)
        return condition if upto is None else condition & (key <= upto)

    def next_range(after, size: int) -> KeyRange | None:
        first = model.select(key.alias("k")).where(window(after)).order_by(key).limit(size).alias("batch")
        upto, rows = Select([first], [fn.MAX(first.c.k), fn.COUNT(SQL("*"))]).bind(model._meta.database).scalar(
            as_tuple=True)
        return KeyRange(after, upto, rows) if rows else None

    def delete_range(batch: KeyRange) -> int:
        in_range = window(batch.after, batch.upto)
        for foreign_key in children:
            # The range on the child's own column too: its index finds the rows (PostgreSQL would otherwise
            # join by reading the whole child table, every batch).
            near = foreign_key <= batch.upto if batch.after is None else foreign_key.between(batch.after, batch.upto)
            foreign_key.model.delete().where(near & foreign_key.in_(model.select(key).where(in_range))).execute()
        return model.delete().where(in_range).execute()

    return purge_in_batches(next_range, delete_range, batch_rows(expiry), batch_transaction)


def batch_rows(expiry: Expiry) -> int:
    """reports.purge_batch; on SQLite at most SQLITE_BATCH_ROWS: there a batch's transaction holds the one write
    lock, and every webhook that writes waits for it (PostgreSQL locks only the rows deleted)."""
    return min(expiry.batch_size, SQLITE_BATCH_ROWS) if is_sqlite() else expiry.batch_size


@contextmanager
def batch_transaction():
    """A batch's write transaction; on SQLite the WAL pages it wrote are then checkpointed by the purge itself
    (core.db.checkpoint_wal), in the batch's own time, which the pause after it matches."""
    with write_transaction():
        yield
    checkpoint_wal()


def register_jobs(jobs, app: Flask) -> None:
    """The daily purge; run_at_start: a purge missed while the process was down runs when it comes back."""
    jobs.daily(PURGE_JOB, app.config["SETTINGS"]["reports.purge_time"], purge_expired, run_at_start=True,
                    description="保存期間を過ぎたデータの削除")
