"""sms.bulk's tile of the home page: bulk sends running now or scheduled, and the next one due."""
from __future__ import annotations

from peewee import fn

from core.dashboard import DashboardDay, TileBody, date_time_label, format_count, register_tile, single_line
from sms.bulk.models import BulkSend

ACTIVE = (("running", "配信中"), ("scheduled", "配信予約"))


def register(app) -> None:
    register_tile(app, "bulk", "一括配信", bulk_tile, role="manager", order=40)


def bulk_tile(day: DashboardDay) -> TileBody:
    counts = dict(BulkSend.select(BulkSend.status, fn.COUNT(BulkSend.id))
                  .where(BulkSend.status.in_([status for status, _ in ACTIVE]))
                  .group_by(BulkSend.status).tuples())
    lines = [single_line(label, format_count(counts.get(status, 0)), key=f"bulk-{status}",
                         endpoint="bulk.index", args={"status": status})
             for status, label in ACTIVE]
    upcoming = (BulkSend.select(BulkSend.id, BulkSend.title, BulkSend.scheduled_at)
                .where(BulkSend.status == "scheduled").order_by(BulkSend.scheduled_at, BulkSend.id).first())
    if upcoming is not None:
        lines.append(single_line(f"次の予約「{upcoming.label}」", date_time_label(upcoming.scheduled_at),
                                 key="bulk-next", endpoint="bulk.detail", args={"send_id": upcoming.id}))
    return TileBody(tuple(lines))
