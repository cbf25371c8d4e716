import os
import re
import signal
import subprocess
import sys
import time

import pytest

from core.config import ROOT
from core.models import JobRun, SchedulerLease
from core.scheduler import LEASE_NAME, JobRegistry, SchedulerService


def registry_counting(calls: list) -> JobRegistry:
    registry = JobRegistry()
    registry.every("count", 60, lambda: calls.append("ran") or len(calls), run_at_start=True)
    return registry


def test_only_the_lease_holder_runs_jobs_and_a_standby_takes_over(app, clock):
    calls_a, calls_b = [], []
    a = SchedulerService(app, registry_counting(calls_a), holder="host-a")
    b = SchedulerService(app, registry_counting(calls_b), holder="host-b")

    assert a.heartbeat() is True
    assert b.heartbeat() is False
    assert (a.active, b.active) == (True, False)
    assert calls_a == ["ran"] and calls_b == []  # the catch-up run happened on the holder only
    assert b.run_job("count") is None and calls_b == []
    assert SchedulerLease.get_by_id(LEASE_NAME).holder == "host-a"

    clock.advance(seconds=10)
    assert a.heartbeat() is True  # renewal keeps it
    assert b.heartbeat() is False

    clock.advance(seconds=app.config["SETTINGS"]["scheduler.lease_seconds"] + 1)  # host-a died silently
    assert b.heartbeat() is True
    assert a.heartbeat() is False
    assert (a.active, b.active) == (False, True)
    assert calls_b == ["ran"]
    assert JobRun.get_by_id("count").last_result == "1"


def test_registry_refuses_duplicate_ids():
    registry = JobRegistry()
    registry.every("x", 5, lambda: None)
    with pytest.raises(ValueError):
        registry.every("x", 5, lambda: None)


def test_a_failing_job_is_logged_and_does_not_stop_the_scheduler(app):
    registry = JobRegistry()
    registry.every("boom", 60, lambda: 1 / 0)
    service = SchedulerService(app, registry, holder="h")
    service.heartbeat()
    assert service.run_job("boom") == "error"
    assert JobRun.get_by_id("boom").last_result == "error"


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_two_worker_processes_run_exactly_one_scheduler(tmp_path):
    db_url = f"sqlite:///{tmp_path}/workers.db"
    env = {**os.environ, "DATABASE_URL": db_url, "TWILIO_AUTH_TOKEN": "t", "SECRET_KEY": "s",
           "IVR_SCHEDULER__LEASE_SECONDS": "5", "ADMIN_PASSWORD": "worker-test-1", "PYTHONUNBUFFERED": "1"}
    logs = [tmp_path / "w1.log", tmp_path / "w2.log"]
    procs = [subprocess.Popen([sys.executable, "run.py", "worker"], cwd=ROOT, env=env,
                              stdout=open(log, "w"), stderr=subprocess.STDOUT) for log in logs]
    try:
        taken = lambda i: "scheduler lease taken" in logs[i].read_text()  # noqa: E731
        assert wait_for(lambda: taken(0) or taken(1), 300), [log.read_text() for log in logs]
        time.sleep(4)  # both have beaten several times by now
        holders = [i for i in (0, 1) if taken(i)]
        assert len(holders) == 1, [log.read_text() for log in logs]
        winner, standby = holders[0], 1 - holders[0]
        holder_id = re.search(r"scheduler lease taken by (\S+)", logs[winner].read_text()).group(1)
        from core.db import bind_database, database

        bind_database(db_url)
        with database.connection_context():
            assert SchedulerLease.get_by_id("scheduler").holder == holder_id

        procs[winner].send_signal(signal.SIGKILL)  # no release: the lease must expire
        procs[winner].wait(timeout=10)
        assert wait_for(lambda: taken(standby), 120), logs[standby].read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
