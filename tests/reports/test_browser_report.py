"""Real browser: open the report, see the chart drawn, change the range, download the CSV."""
import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from core.db import database
from ivr.models import Call
from core.csvfile import UTF8_BOM
from reports.jobs import refresh_reports
from sms.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]


def seed(app, clock):
    with app.app_context(), database.connection_context():
        rows = []
        for day in range(1, 21):  # 2026-01-01 .. 01-20: day n has n calls, every third one abandoned
            for n in range(day):
                rows.append({"call_sid": f"CA{day:02d}{n:030d}", "from_number": "+819012345678",
                             "to_number": "+815000000000", "started_at": dt.datetime(2026, 1, day, 9, n),
                             "duration_seconds": 20, "outcome": "abandoned" if n % 3 == 2 else "completed"})
        Call.insert_many(rows).execute()
        Message.create(created_at=dt.datetime(2026, 1, 3, 10), to_number="+819012345678", body="ご案内です",
                       state="delivered", clicks=2, source="api")
        clock.set("2026-01-22 13:00")
        refresh_reports()  # publishes through 2026-01-20


def test_report_chart_range_and_csv_download(live_server, page, browser_login, clock):
    seed(live_server.app, clock)
    browser_login(page, "manager")
    page.goto(live_server.url + "/reports/?from=2026-01-01&to=2026-01-20")
    chart = page.locator("#report-chart svg")
    chart.wait_for()
    assert chart.get_attribute("data-days") == "20"
    assert page.locator("#report-chart rect.bar-calls").count() == 20
    tallest = page.locator("#report-chart g.day[data-day='2026-01-20'] rect.bar-calls")
    shortest = page.locator("#report-chart g.day[data-day='2026-01-01'] rect.bar-calls")
    assert float(tallest.get_attribute("height")) > 10 * float(shortest.get_attribute("height")) > 0
    assert page.locator("#report-chart g.day[data-day='2026-01-03'] title").text_content() == (
        "2026-01-03 着信 3 件 / 途中放棄 1 件 (33.3%) / リトライ上限 0 件")
    assert page.locator("#hour-chart g.hour[data-hour='9'] title").text_content() == (
        "9時 着信 210 件 / 途中放棄 63 件 (30.0%)")  # every call started between 9:00 and 9:19
    assert page.locator("#sms-chart g.day[data-day='2026-01-03'] title").text_content() == (
        "2026-01-03 SMS送信 1 件 / URLクリック 1 件 (100.0%)")
    assert page.locator("#report-chart polyline.line-rate").count() == 1
    assert page.locator("#refresh-status").inner_text().startswith("最終更新: 2026-01-22 13:00")

    page.fill("#range-form input[name=from]", "2026-01-11")
    page.fill("#range-form input[name=to]", "2026-01-15")
    page.click("#range-form button[type=submit]")
    page.wait_for_url("**from=2026-01-11**")
    page.locator("#report-chart svg[data-days='5']").wait_for()
    assert page.locator("#report-chart rect.bar-calls").count() == 5
    assert page.locator(".total-value[data-counter=calls]").inner_text() == str(11 + 12 + 13 + 14 + 15)

    # Two calls at most: the count axis still steps by whole calls.
    page.goto(live_server.url + "/reports/?from=2026-01-01&to=2026-01-02")
    page.locator("#report-chart svg[data-days='2']").wait_for()
    assert page.locator("#report-chart text.count-tick").all_text_contents() == ["0", "1", "2", "3", "4", "5"]
    page.goto(live_server.url + "/reports/?from=2026-01-11&to=2026-01-15")

    with page.expect_download() as info:
        page.click("#daily-download button[type=submit]")
    download = info.value
    assert download.suggested_filename == "着信・SMS送信レポート_20260111-20260115.csv"
    data = Path(download.path()).read_bytes()
    assert data.startswith(UTF8_BOM)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [(row[0], row[2]) for row in rows[1:]] == [(f"2026-01-{d}", str(d)) for d in range(11, 16)]
