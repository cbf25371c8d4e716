"""Report pages and CSV downloads over HTTP: streamed, read back with the csv module, Japanese errors."""
import csv
import datetime as dt
import io
import json
from urllib.parse import unquote

import pytest

from core.csvfile import UTF8_BOM
from reports.jobs import refresh_reports
from tests.reports.conftest import DIALLED

MAIN = ("main", "受付メニュー")


@pytest.fixture
def week(clock, make_call, make_message, menu_flow):
    """Calls on 2026-02-02..06, published through 02-04 by Friday's refresh; the clock stays on Friday 14:00."""
    for day in range(2, 7):
        started = dt.datetime(2026, 2, day, 10, 0)
        make_call(started, caller="+819012345678", flow=menu_flow,
                  events=[("node", *MAIN, ""), ("digit", *MAIN, "1"), ("node", "sub", "サブメニュー", "")])
        make_call(started + dt.timedelta(hours=1), caller="+818055556666", outcome="abandoned", abandoned_in=MAIN,
                  flow=menu_flow, events=[("node", *MAIN, ""), ("timeout", *MAIN, "")])
        make_message(started + dt.timedelta(minutes=5), state="delivered")
    clock.set("2026-02-06 14:00")
    refresh_reports()
    return menu_flow


def rows_of(response, codec: str) -> list[list[str]]:
    body = response.get_data()
    return list(csv.reader(io.StringIO(body.decode(codec), newline="")))


def test_daily_csv_utf8_with_bom_and_date_range_in_the_name(week, manager_client):
    response = manager_client.get("/reports/daily.csv?from=2026-02-02&to=2026-02-04")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "着信・SMS送信レポート_20260202-20260204.csv"
    assert response.get_data().startswith(UTF8_BOM)
    rows = rows_of(response, "utf-8-sig")
    assert rows[0][:5] == ["日付", "着信番号", "着信数", "完了", "途中放棄"]
    by_key = {(row[0], row[1]): row for row in rows[1:]}
    assert by_key[("2026-02-02", "050-0000-0000")][2:5] == ["2", "1", "1"]
    assert by_key[("2026-02-03", "通話以外 (API・一括配信など)")][rows[0].index("SMS送達")] == "1"
    assert {row[0] for row in rows[1:]} == {"2026-02-02", "2026-02-03", "2026-02-04"}


def test_call_csv_in_shift_jis_reads_back_with_paths(week, admin_client):
    response = admin_client.get("/reports/calls.csv?from=2026-02-02&to=2026-02-06&mode=live&encoding=sjis")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=Shift_JIS"
    assert not response.get_data().startswith(UTF8_BOM)
    rows = rows_of(response, "cp932")
    assert rows[0] == ["開始日時", "終了日時", "発信者番号", "着信番号", "通話秒数", "結果", "最終メニュー",
                       "途中放棄メニュー", "途中放棄時の再生内容", "途中放棄時のガイダンス", "経路", "通話ID"]
    assert len(rows) == 1 + 10
    assert rows[1][:6] == ["2026-02-02 10:00:00", "2026-02-02 10:00:30", "090-1234-5678", "050-0000-0000", "30", "完了"]
    assert rows[1][10] == "受付メニュー → [1] → サブメニュー"
    assert rows[2][5:11] == ["途中放棄", "受付メニュー", "受付メニュー", "", "", "受付メニュー → タイムアウト"]


def test_published_call_csv_stops_at_the_published_day(week, manager_client):
    rows = rows_of(manager_client.get("/reports/calls.csv?from=2026-02-02&to=2026-02-06"), "utf-8-sig")
    assert {row[0][:10] for row in rows[1:]} == {"2026-02-02", "2026-02-03", "2026-02-04"}


def test_csv_streams_in_chunks_over_keyset_pages(week, admin_client, make_call, monkeypatch):
    from reports import queries

    for _ in range(3):  # calls starting at the same second straddle a chunk boundary
        make_call("2026-02-03 12:00")
    monkeypatch.setattr(queries, "CHUNK_ROWS", 3)
    rows = rows_of(admin_client.get("/reports/calls.csv?from=2026-02-02&to=2026-02-06&mode=live"), "utf-8-sig")
    started = [row[0] for row in rows[1:]]
    assert len(started) == 13 and started == sorted(started)
    assert len({row[-1] for row in rows[1:]}) == 13


def test_bad_dates_re_render_with_a_japanese_message_and_keep_the_input(week, manager_client):
    asked = {"from": "2026-02-05", "to": "2026-02-01", "number": DIALLED}
    response = manager_client.get("/reports/", query_string=asked)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "「開始日」は「終了日」以前の日付にしてください" in html
    assert 'name="from" value="2026-02-05"' in html and 'name="to" value="2026-02-01"' in html
    assert f'<option value="{DIALLED}" selected>' in html
    too_old = manager_client.get("/reports/daily.csv?from=2025-10-01&to=2026-02-01")
    assert too_old.status_code == 400
    assert "保存期間内" in too_old.get_data(as_text=True)
    assert "復元はできません" in too_old.get_data(as_text=True)


def test_report_page_tables_and_chart_data(week, manager_client):
    from ivr.models import Node

    Node.update(exits='{"1": "sub", "2": "sms"}').where((Node.flow == week) & (Node.key == "main")).execute()
    html = manager_client.get("/reports/?from=2026-02-02&to=2026-02-04").get_data(as_text=True)
    assert "<td>1: サブメニュー</td>" in html  # a menu's digit says where it leads
    chart = json.loads(html.split('id="report-chart-data">')[1].split("</script>")[0])
    assert chart["whole"]["values"] == [2, 2, 2]
    assert "受付メニュー" in html and "入力タイムアウト" in html
    assert "2026-02-02 (月)" in html
    assert 'id="report-chart"' in html and "reports/chart.js" in html


def test_call_list_searches_by_caller_and_shows_paths(week, manager_client):
    html = manager_client.get("/reports/calls?caller=080-5555-6666&from=2026-02-02&to=2026-02-04").get_data(
        as_text=True)
    table = html[html.index('id="calls-table"'):html.index("</table>", html.index('id="calls-table"'))]
    # Numbers as every page shows them (core.phone.display), not as stored (+818055556666).
    assert table.count('<td class="nowrap">080-5555-6666</td>') == 3
    assert "090-1234-5678" not in table and "+81" not in table
    assert table.count('<td class="nowrap">050-0000-0000</td>') == 3
    assert '<span class="step">受付メニュー</span> → <span class="step">タイムアウト</span>' in html
    assert "放棄: 受付メニュー" in html


@pytest.fixture
def app_config(app_config):
    return {**app_config, "web.page_size": 5}


def test_call_list_and_daily_table_paginate(week, admin_client):
    first = admin_client.get("/reports/calls?from=2026-02-02&to=2026-02-06&mode=live").get_data(as_text=True)
    assert "10 件中 1〜5 件" in first and "次へ" in first
    second = admin_client.get("/reports/calls?from=2026-02-02&to=2026-02-06&mode=live&page=2").get_data(
        as_text=True)
    assert "10 件中 6〜10 件" in second and "2026-02-02 10:00:00" in second
    daily = admin_client.get("/reports/?from=2026-01-30&to=2026-02-06&mode=live").get_data(as_text=True)
    assert "8 件中 1〜5 件" in daily


def test_staff_cannot_open_reports(staff_client):
    assert staff_client.get("/reports/").status_code == 403
    assert staff_client.get("/reports/calls.csv").status_code == 403
