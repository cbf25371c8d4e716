"""Scheduled jobs: one registry, one scheduler per installation, guarded by a lease row in the database.

Every process that may schedule (`python run.py`, `python run.py worker`) starts a SchedulerService.
Each beats every few seconds; the one holding the lease runs the jobs, the others stand by and take
over when the holder's lease expires. APScheduler keeps its jobs in memory only (several processes
sharing a job store is unsupported); due work that must survive restarts lives in our own tables.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import clock
from core.db import database, write_transaction
from core.models import JobRun, SchedulerLease

log = logging.getLogger("scheduler")
LEASE_NAME = "scheduler"


@dataclass
class Job:
    id: str
    func: Callable[[], Any]
    trigger: Any
    # Seconds a late run may still start; None: however late (work that must not be skipped).
    misfire_grace_time: int | None = 60
    run_at_start: bool = False  # also run once when this process becomes the scheduler (catch-up)
    description: str = ""


@dataclass
class JobRegistry:
    jobs: dict[str, Job] = field(default_factory=dict)

    def add(self, job: Job) -> None:
        if job.id in self.jobs:
            raise ValueError(f"duplicate job id {job.id}")
        self.jobs[job.id] = job

    def every(self, job_id: str, seconds: int, func, **kw) -> None:
        self.add(Job(job_id, func, IntervalTrigger(seconds=seconds), misfire_grace_time=kw.pop("grace", 5), **kw))

    def daily(self, job_id: str, at: str, func, days: str = "*", **kw) -> None:
        hour, minute = (int(x) for x in at.split(":"))
        trigger = CronTrigger(hour=hour, minute=minute, day_of_week=days, timezone=clock.TOKYO)
        self.add(Job(job_id, func, trigger, misfire_grace_time=kw.pop("grace", 3600), **kw))


class Lease:
    """A row that one holder renews; others may take it once it has expired."""

    def __init__(self, holder: str, seconds: int, name: str = LEASE_NAME):
        self.holder, self.seconds, self.name = holder, seconds, name

    def acquire_or_renew(self) -> bool:
        now = clock.now()
        expires = now + dt.timedelta(seconds=self.seconds)
        with write_transaction():  # in turn with the webhooks' writes (a lease not renewed in time is lost)
            SchedulerLease.insert(name=self.name, holder=self.holder, expires_at=expires).on_conflict_ignore(
            ).execute()
            taken = (
                SchedulerLease.update(holder=self.holder, expires_at=expires)
                .where(
                    (SchedulerLease.name == self.name)
                    & ((SchedulerLease.holder == self.holder) | (SchedulerLease.expires_at < now))
                )
                .execute()
            )
        return taken == 1

    def release(self) -> None:
        SchedulerLease.delete().where(
            (SchedulerLease.name == self.name) & (SchedulerLease.holder == self.holder)
        ).execute()


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class SchedulerService:
    """Runs the registry's jobs while, and only while, this process holds the lease."""

    def __init__(self, app, registry: JobRegistry, holder: str | None = None):
        self.app = app
        self.registry = registry
        settings = app.config["SETTINGS"]
        self.lease = Lease(holder or default_holder(), settings["scheduler.lease_seconds"])
        self.active = False
        self._lock = threading.Lock()
        self._scheduler: BackgroundScheduler | None = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        self._scheduler = BackgroundScheduler(
            timezone=clock.TOKYO, job_defaults={"coalesce": True, "max_instances": 1}
        )
        beat = max(1, self.lease.seconds // 3)
        self._scheduler.add_job(
            self.heartbeat, IntervalTrigger(seconds=beat), id="scheduler-heartbeat",
            replace_existing=True, misfire_grace_time=beat, next_run_time=dt.datetime.now(clock.TOKYO),
        )
        self._scheduler.start()

    def shutdown(self) -> None:
        if self._scheduler:
            self._scheduler.shutdown(wait=True)
        with self.app.app_context(), database.connection_context():
            if self.active:
                self.lease.release()
        self.active = False

    # --- lease -------------------------------------------------------------------------------------
    def heartbeat(self) -> bool:
        """Take or renew the lease; start or stop the jobs accordingly. Returns whether we hold it."""
        with self._lock, self.app.app_context(), database.connection_context():
            held = self.lease.acquire_or_renew()
            if held and not self.active:
                log.info("scheduler lease taken by %s", self.lease.holder)
                self.active = True
                self._install_jobs()
            elif not held and self.active:
                log.warning("scheduler lease lost by %s; jobs stop here", self.lease.holder)
                self.active = False
                self._remove_jobs()
            return held

    def _install_jobs(self) -> None:
        for job in self.registry.jobs.values():
            if self._scheduler is not None:
                self._scheduler.add_job(
                    self.run_job, job.trigger, args=[job.id], id=job.id, replace_existing=True,
                    misfire_grace_time=job.misfire_grace_time,
                )
        for job in self.registry.jobs.values():
            if job.run_at_start:
                if self._scheduler is not None:
                    self._scheduler.add_job(self.run_job, args=[job.id], id=f"{job.id}-at-start")
                else:
                    self.run_job(job.id)

    def _remove_jobs(self) -> None:
        if self._scheduler is None:
            return
        for job_id in self.registry.jobs:
            if self._scheduler.get_job(job_id):
                self._scheduler.remove_job(job_id)

    # --- running -----------------------------------------------------------------------------------
    def run_job(self, job_id: str) -> Any:
        """Run one job inside an app context and a database connection, if we still hold the lease."""
        if not self.active:
            return None
        job = self.registry.jobs[job_id]
        with self.app.app_context(), database.connection_context():
            try:
                result = job.func()
            except Exception:
                log.exception("job %s failed", job_id)
                result = "error"
            with write_transaction():
                JobRun.insert(job_id=job_id, last_run_at=clock.now(), last_result=str(result)[:500]).on_conflict(
                    conflict_target=[JobRun.job_id],
                    update={JobRun.last_run_at: clock.now(), JobRun.last_result: str(result)[:500]},
                ).execute()
            return result
