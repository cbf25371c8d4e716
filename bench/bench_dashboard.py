"""Home dashboard benchmark on an embedded SQLite database of 10,000 calls a day (90 days, today included).

Prints, all measured in one process against the same app and logged-in test clients:
  * a bare endpoint behind the same login and request hooks (returns "ok"), the baseline;
  * a page with the layout only (base.html: menu, header), what every page costs;
  * the dashboard for an admin (every tile) and for staff (calls and voicemails);
  * each tile's builder alone (its queries and formatting).
Medians of REPEAT requests (and the best one). Data: bench_reports' 10,000 calls and 2,000 SMS a day with their
menu events, plus a voicemail for every call that ended in one (1 in 20 still unhandled) and 500 bulk sends.
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OPEN_JTALK_DICT_DIR", "/var/lib/mecab/dic/open-jtalk/naist-jdic")

from bench.bench_reports import CALLS_PER_DAY, SMS_PER_DAY, bulk_insert, fill, logged_in_client

# BENCH_DASHBOARD_DAYS shortens the run while working on the bench; the figures quoted use 90.
DAYS = int(os.environ.get("BENCH_DASHBOARD_DAYS", "90"))
TODAY = dt.date(2026, 3, 31)
FIRST_DAY = TODAY - dt.timedelta(days=DAYS - 1)
NOW = dt.datetime.combine(TODAY, dt.time(23, 30))  # after the day's last call (the bench's calls run 08:00-21:53)
REPEAT = 30
LAYOUT_ONLY = '{% extends "base.html" %}{% block content %}<h1>ホーム</h1>{% endblock %}'


def build_app(db_path: Path):
    from flask import render_template_string
    from flask_login import login_required

    from web import create_app

    app = create_app({"database.url": f"sqlite:///{db_path}", "web.secret_key": "bench", "twilio.auth_token": "bench",
                      "web.public_base_url": "http://localhost", "reports.retention_days": DAYS + 10})
    app.add_url_rule("/bench/bare", "bench_bare", login_required(lambda: "ok"))
    app.add_url_rule("/bench/layout", "bench_layout", login_required(lambda: render_template_string(LAYOUT_ONLY)))
    return app


def add_voicemails_and_bulk_sends(database) -> tuple[int, int]:
    """A voicemail for every call that ended in one (every 20th unhandled); 500 past bulk sends and 3 upcoming."""
    from sms.bulk.models import BulkSend

    database.execute_sql(
        "INSERT INTO ivr_voicemail (call_id, at, node_name, url, seconds, handled_at, handled_by) "
        "SELECT id, started_at, '留守番電話', 'https://api.twilio.com/rec.wav', 30, "
        "CASE WHEN id % 20 = 0 THEN NULL ELSE started_at END, 'bench' FROM ivr_call WHERE outcome = 'voicemail'")
    sends = [{"title": f"一括配信 {n}", "status": "completed", "created_at": str(NOW - dt.timedelta(hours=n * 4)),
              "scheduled_at": str(NOW - dt.timedelta(hours=n * 4)), "message1": "お知らせです。"} for n in range(500)]
    sends += [{"title": f"予約 {n}", "status": "scheduled", "immediate": False, "created_at": str(NOW),
               "scheduled_at": str(NOW + dt.timedelta(days=n + 1)), "message1": "お知らせです。"} for n in range(3)]
    sends.append({"title": "配信中", "status": "running", "created_at": str(NOW), "scheduled_at": str(NOW),
                  "message1": "お知らせです。"})
    bulk_insert(database, BulkSend, sends)
    voicemails = database.execute_sql("SELECT COUNT(*) FROM ivr_voicemail").fetchone()[0]
    return voicemails, len(sends)


def timed(action, repeat: int = REPEAT) -> tuple[float, float]:
    """(median, best) seconds of `action()` over `repeat` runs, after one warm-up run."""
    action()
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), min(runs)


def get(client, url: str):
    def action():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return action


def tile_builders(app):
    from core.dashboard import DashboardDay, registered_tiles
    from core.db import database

    day = DashboardDay(NOW)

    def run(spec):
        def action():
            with app.test_request_context(), database.connection_context():
                spec.build(day)
        return action

    return [(spec.key, run(spec)) for spec in registered_tiles(app)]


def ms(figures: tuple[float, float]) -> str:
    median, best = figures
    return f"{median * 1000:6.1f} ms median ({best * 1000:.1f} ms best)"


def main() -> int:
    from core import clock
    from core.db import database

    clock.use_clock(clock.FakeClock(NOW))
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(Path(tmp) / "bench.db")
        with app.app_context(), database.connection_context():
            began = time.perf_counter()
            fill(database, FIRST_DAY, DAYS)
            voicemails, sends = add_voicemails_and_bulk_sends(database)
        print(f"data: {DAYS * CALLS_PER_DAY:,} calls ({CALLS_PER_DAY:,} a day through today), {DAYS * SMS_PER_DAY:,} SMS, "
              f"{voicemails:,} voicemails, {sends} bulk sends ({time.perf_counter() - began:.0f} s to insert)")
        admin, staff = logged_in_client(app, "admin"), logged_in_client(app, "staff")
        assert b"tile-refresh" in admin.get("/").data and b"tile-refresh" not in staff.get("/").data
        bare = timed(get(admin, "/bench/bare"))
        print(f"bare endpoint (same login and request hooks):  {ms(bare)}")
        print(f"layout-only page (base.html, admin's menu):    {ms(timed(get(admin, '/bench/layout')))}")
        dashboard = timed(get(admin, "/"))
        print(f"dashboard, admin (5 tiles):                    {ms(dashboard)}  = {dashboard[0] / bare[0]:.1f} x bare")
        print(f"dashboard, staff (2 tiles):                    {ms(timed(get(staff, '/')))}")
        for key, build in tile_builders(app):
            print(f"  tile {key:<12} builder alone:            {ms(timed(build))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
