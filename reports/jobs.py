"""Scheduled work: the 13:00 refresh (R-51). The daily retention purge (R-52) is core.retention's job."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from flask import current_app

from core import clock, events
from core.calendar import BusinessCalendar, calendar_for
from core.db import write_transaction
from core.retention import oldest_kept_day
from reports.aggregate import days_with_sms_changed_since, publish, republish_sms
from reports.live import take_snapshot
from reports.models import ReportRefresh
from reports.refresh import RefreshRule, last_refresh_at, next_refresh_at, publish_cutoff

log = logging.getLogger("reports.jobs")
REFRESH_JOB = "reports-refresh"
SNAPSHOT_JOB = "reports-live-snapshot"
SNAPSHOT_SECONDS = 300  # a live view counts at most this long of calls (and the time its snapshot took)


def refresh_rule() -> RefreshRule:
    return RefreshRule.from_settings(current_app.config["SETTINGS"])


def latest_refresh() -> ReportRefresh | None:
    return ReportRefresh.select().order_by(ReportRefresh.id.desc()).first()


def refresh_reports(now: dt.datetime | None = None) -> str:
    """Publish every day the latest scheduled refresh makes visible, and publish again the days already shown
    whose SMS changed since the previous refresh; running it again changes nothing."""
    now = now or clock.now()
    calendar = calendar_for(now.date())
    rule = refresh_rule()
    cutoff = publish_cutoff(now, calendar, rule)
    latest = latest_refresh()
    if latest is not None and latest.cutoff >= cutoff:
        return f"up to date through {latest.cutoff}"
    first_kept = oldest_kept_day(now.date(), current_app.config["SETTINGS"]["reports.retention_days"])
    start = first_kept if latest is None else max(first_kept, latest.cutoff + dt.timedelta(days=1))
    changed = [] if latest is None else days_with_sms_changed_since(latest.run_at, first_kept, latest.cutoff)
    for day in changed:
        republish_sms(day)
    days = publish(start, cutoff)
    with write_transaction():
        ReportRefresh.create(run_at=now, scheduled_at=last_refresh_at(now, calendar, rule), cutoff=cutoff,
                             published_from=start, days_published=days)
        events.announce(events.REPORT_PUBLISHED, {"cutoff": str(cutoff), "published_from": str(start),
                                                  "days": days, "at": f"{now:%Y-%m-%d %H:%M}"})
    take_snapshot(cutoff, now)  # the live view's days after the new cutoff, counted once here
    again = f" (again: {', '.join(map(str, changed))})" if changed else ""
    log.info("report refresh: published %s..%s%s", start, cutoff, again)
    return f"published {start}..{cutoff}{again}"


def snapshot_live_days(now: dt.datetime | None = None) -> str:
    """Move the live view's snapshot on to now (reports.live): only what came or changed since the last is counted."""
    latest = latest_refresh()
    if latest is None:
        return "no refresh yet"
    snapshot = take_snapshot(latest.cutoff, now or clock.now())
    return f"days after {latest.cutoff} counted through call {snapshot.last_call_id}"


@dataclass(frozen=True)
class RefreshStatus:
    """What the page says about publication: last refresh, the day it covers, the next one."""

    last_run_at: dt.datetime | None
    cutoff: dt.date | None
    next_at: dt.datetime


def refresh_status(now: dt.datetime | None = None, calendar: BusinessCalendar | None = None) -> RefreshStatus:
    now = now or clock.now()
    calendar = calendar or calendar_for(now.date())
    latest = latest_refresh()
    return RefreshStatus(
        last_run_at=latest.run_at if latest else None,
        cutoff=latest.cutoff if latest else None,
        next_at=next_refresh_at(now, calendar, refresh_rule()),
    )


def register(registry, app) -> None:
    settings = app.config["SETTINGS"]
    # run_at_start: a refresh missed while the process was down runs when it comes back; it is idempotent,
    # so running it at every start costs nothing more.
    registry.daily(REFRESH_JOB, settings["reports.refresh_time"], refresh_reports, run_at_start=True,
                   description="着信・SMS送信レポートの更新 (営業日 13:00)")
    registry.every(SNAPSHOT_JOB, SNAPSHOT_SECONDS, snapshot_live_days, run_at_start=True,
                   description="着信・SMS送信レポートの速報値の集計")
