"""The home dashboard: today's and yesterday's figures (速報値) from the records, each linked to its page for the
roles that may open it; the next report refresh; unhandled voicemails; bulk sends running or scheduled."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from core import dashboard
from ivr.models import Voicemail
from reports.jobs import refresh_reports
from sms.bulk.models import BulkSend

TODAY_COLUMNS = ["今日 1/6 (火)", "昨日 1/5 (月)"]


def rows_of(html: str, table_id: str) -> int:
    """Body rows of a list table on a page."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.DOTALL).group(0)
    body = table.split("<tbody>", 1)[1]
    return body.count("<tr")


def query(href: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(href)
    return parts.path, {key: values[0] for key, values in parse_qs(parts.query).items()}


@pytest.fixture
def around_midnight(clock, make_call):
    """Calls on each side of the midnight between Monday 1/5 and Tuesday 1/6, seen at 00:30 on Tuesday."""
    make_call("2026-01-04 12:00")                        # Sunday: neither day
    make_call("2026-01-05 00:00:00")                     # yesterday's first moment
    make_call("2026-01-05 23:59:59", outcome="abandoned", abandoned_in=("main", "受付メニュー"))
    make_call("2026-01-06 00:00:00", outcome="abandoned", abandoned_in=("main", "受付メニュー"))
    make_call("2026-01-06 00:05", outcome="transferred")
    make_call("2026-01-06 00:10", outcome="voicemail")
    make_call("2026-01-06 00:29", outcome=None)          # still going on
    clock.set("2026-01-06 00:30")
    return clock


def test_calls_count_on_the_day_they_started_and_move_to_yesterday_at_midnight(around_midnight, manager_client,
                                                                               dashboard_of):
    calls = dashboard_of(manager_client)["calls"]
    assert calls.columns == TODAY_COLUMNS
    assert calls.texts("calls") == ["4 件", "2 件"]
    assert calls.texts("abandon-rate") == ["25.0%", "50.0%"]
    assert calls.texts("outcome-completed") == ["0 件", "1 件"]
    assert calls.texts("outcome-abandoned") == ["1 件", "1 件"]
    assert calls.texts("outcome-transferred") == ["1 件", "0 件"]
    assert calls.texts("outcome-voicemail") == ["1 件", "0 件"]
    assert calls.texts("outcome-error") == ["0 件", "0 件"]
    assert calls.texts("outcome-in-progress") == ["1 件", "0 件"]
    assert calls.labels["outcome-abandoned"] == "途中放棄"

    around_midnight.set("2026-01-06 23:59:59")
    assert dashboard_of(manager_client)["calls"].texts("calls") == ["4 件", "2 件"]
    around_midnight.set("2026-01-07 00:00:00")  # Tuesday's calls are yesterday's now
    calls = dashboard_of(manager_client)["calls"]
    assert calls.columns == ["今日 1/7 (水)", "昨日 1/6 (火)"]
    assert calls.texts("calls") == ["0 件", "4 件"]
    assert calls.texts("abandon-rate") == ["—", "25.0%"]


def test_every_outcome_the_calls_have_gets_a_line_of_its_own(clock, make_call, manager_client, dashboard_of):
    clock.set("2026-01-06 10:00")
    make_call("2026-01-06 09:00", outcome="retry_limit")  # リトライ上限 (issue 13): one of the outcomes now
    make_call("2026-01-06 09:05", outcome="callback")     # an outcome the outcome list does not have (yet)
    calls = dashboard_of(manager_client)["calls"]
    assert calls.texts("outcome-retry_limit") == ["1 件", "0 件"]
    assert calls.hrefs("outcome-retry_limit")[0].endswith("outcome=retry_limit")
    assert calls.texts("outcome-callback") == ["1 件", "0 件"]
    assert calls.hrefs("outcome-callback") == [None, None]  # the call list cannot filter on it
    assert list(calls.lines).index("outcome-error") < list(calls.lines).index("outcome-callback")


def test_a_managers_figures_open_the_live_report_filtered_to_that_day_and_outcome(around_midnight, manager_client,
                                                                                  dashboard_of):
    calls = dashboard_of(manager_client)["calls"]
    path, args = query(calls.hrefs("calls")[0])
    assert (path, args) == ("/reports/calls", {"mode": "live", "from": "2026-01-06", "to": "2026-01-06"})
    assert rows_of(manager_client.get(calls.hrefs("calls")[0]).get_data(as_text=True), "calls-table") == 4
    assert rows_of(manager_client.get(calls.hrefs("calls")[1]).get_data(as_text=True), "calls-table") == 2

    abandoned_today = calls.hrefs("outcome-abandoned")[0]
    assert query(abandoned_today)[1]["outcome"] == "abandoned"
    page = manager_client.get(abandoned_today).get_data(as_text=True)
    assert rows_of(page, "calls-table") == 1 and "途中放棄" in page
    assert '<option value="abandoned" selected>' in page  # the filter shows what was asked
    assert rows_of(manager_client.get(calls.hrefs("outcome-transferred")[0]).get_data(as_text=True),
                   "calls-table") == 1

    report = manager_client.get(calls.hrefs("abandon-rate")[1]).get_data(as_text=True)
    assert 'id="live-label">速報<' in report and 'data-counter="calls">2<' in report


def test_an_unknown_outcome_in_the_call_list_is_named_back_and_the_input_kept(clock, manager_client):
    response = manager_client.get("/reports/calls?mode=live&from=2026-01-05&to=2026-01-05&outcome=lost")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "通話の結果「lost」は選べません。一覧から選んでください。" in html
    assert 'name="from" value="2026-01-05"' in html


def test_sms_figures_by_state_and_the_click_rate(clock, make_message, manager_client, dashboard_of):
    clock.set("2026-01-06 18:00")
    make_message("2026-01-06 09:00", state="delivered", clicks=2)
    make_message("2026-01-06 09:05", state="delivered")
    make_message("2026-01-06 09:10", state="failed")
    make_message("2026-01-06 09:15", state="resend_wait")
    make_message("2026-01-05 23:59:59", state="delivered", clicks=1)
    make_message("2026-01-04 10:00", state="failed")
    sms = dashboard_of(manager_client)["sms"]
    assert sms.texts("sms-sent") == ["4 件", "1 件"]
    assert sms.texts("sms-delivered") == ["2 件", "1 件"]
    assert sms.texts("sms-failed") == ["1 件", "0 件"]
    assert sms.texts("sms-in-flight") == ["1 件", "0 件"]
    assert sms.texts("sms-click-rate") == ["25.0%", "100.0%"]

    failed_today = sms.hrefs("sms-failed")[0]
    assert query(failed_today) == ("/sms/log", {"date_from": "2026-01-06", "date_to": "2026-01-06", "state": "failed"})
    assert rows_of(manager_client.get(failed_today).get_data(as_text=True), "log-table") == 1
    assert rows_of(manager_client.get(sms.hrefs("sms-sent")[0]).get_data(as_text=True), "log-table") == 4


def test_unhandled_voicemails_and_the_ones_received_each_day(clock, make_call, staff_client, dashboard_of):
    clock.set("2026-01-06 12:00")
    for at, handled in (("2026-01-06 10:00", None), ("2026-01-06 11:00", "2026-01-06 11:30"),
                        ("2026-01-05 16:00", None), ("2026-01-02 16:00", None)):
        call = make_call(at, outcome="voicemail")
        Voicemail.create(call=call, at=at, url="https://example.jp/rec.wav", seconds=5, handled_at=handled)
    tile = dashboard_of(staff_client)["voicemails"]
    assert tile.texts("voicemails-open") == ["3 件"]
    assert (tile.texts("voicemails-today"), tile.texts("voicemails-yesterday")) == (["2 件"], ["1 件"])
    path, args = query(tile.hrefs("voicemails-open")[0])
    assert (path, args) == ("/ivr/voicemails", {"show": "open"})
    listed = staff_client.get(tile.hrefs("voicemails-open")[0]).get_data(as_text=True)
    assert "<strong>未対応（3 件）</strong>" in listed and listed.count('<span class="badge warn">未対応</span>') == 3


def test_bulk_sends_running_and_scheduled_with_the_next_one_due(clock, manager_client, dashboard_of):
    clock.set("2026-01-06 12:00")
    BulkSend.create(title="新年のご案内", status="running", scheduled_at="2026-01-06 11:00")
    BulkSend.create(title="2月のお知らせ", status="scheduled", scheduled_at="2026-02-01 10:00",
                            immediate=False)
    sooner = BulkSend.create(title="キャンペーン", status="scheduled", scheduled_at="2026-01-08 09:30", immediate=False)
    BulkSend.create(title="下書き", status="draft")
    BulkSend.create(title="済み", status="completed", scheduled_at="2026-01-05 10:00")
    tile = dashboard_of(manager_client)["bulk"]
    assert tile.texts("bulk-running") == ["1 件"] and tile.texts("bulk-scheduled") == ["2 件"]
    assert tile.labels["bulk-next"] == "次の予約「キャンペーン」"
    assert tile.texts("bulk-next") == ["2026/1/8 (木) 09:30"]
    assert tile.hrefs("bulk-next") == [f"/bulk/{sooner.id}"]
    assert query(tile.hrefs("bulk-scheduled")[0]) == ("/bulk/", {"status": "scheduled"})
    scheduled_list = manager_client.get(tile.hrefs("bulk-scheduled")[0]).get_data(as_text=True)
    assert "キャンペーン" in scheduled_list and "2月のお知らせ" in scheduled_list and "新年のご案内" not in scheduled_list


def test_the_next_refresh_what_it_publishes_and_when_today_and_yesterday_appear(clock, make_call, manager_client,
                                                                               dashboard_of):
    # 2026-01-01 (Thu) is a holiday, 01-03/04 a weekend: Friday's and the weekend's data appear on Tuesday 01-06.
    clock.set("2026-01-06 10:00")
    tile = dashboard_of(manager_client)["refresh"]
    assert tile.texts("next-refresh") == ["2026/1/6 (火) 13:00"]
    assert tile.texts("published") == ["まだ更新されていません"]
    assert tile.texts("next-publishes") == ["1/4 (日) 分まで"]
    assert tile.texts("today-published-at") == ["2026/1/8 (木) 13:00"]
    assert tile.texts("yesterday-published-at") == ["2026/1/7 (水) 13:00"]
    assert query(tile.hrefs("yesterday-published-at")[0]) == (
        "/reports/", {"mode": "live", "from": "2026-01-05", "to": "2026-01-05"})
    assert tile.notes == ["レポートは営業日の 13:00 の更新で、2営業日前までの分が公開されます。"]

    clock.set("2026-01-06 13:00")
    refresh_reports()
    clock.set("2026-01-06 13:01")
    tile = dashboard_of(manager_client)["refresh"]
    assert tile.texts("published") == ["1/4 (日) 分まで"]
    assert tile.hrefs("published") == ["/reports/"]
    assert tile.texts("next-refresh") == ["2026/1/7 (水) 13:00"]
    assert tile.texts("next-publishes") == ["1/5 (月) 分"]

    # Friday 1/9 after its refresh (through Wednesday): Monday 1/12 is 成人の日, so the next refresh is on Tuesday
    # and shows Thursday; Sat-Mon is a long holiday whose Monday is held back one more business day.
    clock.set("2026-01-09 14:00")
    refresh_reports()
    tile = dashboard_of(manager_client)["refresh"]
    assert tile.texts("published") == ["1/7 (水) 分まで"]
    assert tile.texts("next-refresh") == ["2026/1/13 (火) 13:00"]
    assert tile.texts("next-publishes") == ["1/8 (木) 分"]
    assert tile.texts("today-published-at") == ["2026/1/14 (水) 13:00"]  # Friday 1/9
    clock.set("2026-01-12 10:00")
    assert dashboard_of(manager_client)["refresh"].texts("today-published-at") == ["2026/1/15 (木) 13:00"]


def test_staff_see_calls_and_voicemails_without_links_to_manager_pages(around_midnight, staff_client, dashboard_of):
    tiles = dashboard_of(staff_client)
    assert list(tiles) == ["calls", "voicemails"]
    assert tiles["calls"].texts("calls") == ["4 件", "2 件"]
    assert all(href is None for line in tiles["calls"].lines for href in tiles["calls"].hrefs(line))
    hrefs = [href for tile in tiles.values() for line in tile.lines for href in tile.hrefs(line) if href]
    assert hrefs
    for href in hrefs:
        assert staff_client.get(href).status_code == 200, href


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_managers_and_admins_see_every_tile_and_every_link_opens(role, around_midnight, make_user, app, dashboard_of):
    from tests.conftest import PASSWORD

    user = make_user(username=f"{role}-dash", role=role)
    client = app.test_client()
    client.login(user.username, PASSWORD)
    tiles = dashboard_of(client)
    assert list(tiles) == ["calls", "sms", "voicemails", "bulk", "refresh"]
    hrefs = {href for tile in tiles.values() for line in tile.lines for href in tile.hrefs(line) if href}
    assert len(hrefs) > 20
    for href in sorted(hrefs):
        assert client.get(href).status_code == 200, href


def test_the_page_says_the_figures_are_preliminary(around_midnight, manager_client, dashboard_of):
    html = manager_client.get("/").get_data(as_text=True)
    notice = re.search(r'<p class="flash flash-info" id="preliminary-notice">(.*?)</p>', html, re.DOTALL).group(1)
    assert "速報値" in notice and "13:00 の更新で公開されるレポートの数字とは異なることがあります" in notice
    titles = {key: tile.title for key, tile in dashboard_of(manager_client).items()}
    assert titles == {"calls": "着信 速報値", "sms": "SMS 速報値", "voicemails": "留守番電話",
                      "bulk": "一括配信", "refresh": "レポートの公開"}  # per-day figures are marked, states are not


def test_a_failing_tile_is_reported_on_its_card_and_the_rest_still_shows(app, around_midnight, manager_client,
                                                                         dashboard_of, caplog):
    def broken(day):
        raise RuntimeError("database went away")

    dashboard.register_tile(app, "broken", "壊れた項目", broken, role="staff", order=15)
    tiles = dashboard_of(manager_client)
    assert tiles["broken"].notes == [dashboard.TILE_FAILED]
    assert tiles["calls"].texts("calls") == ["4 件", "2 件"]
    assert "dashboard tile broken failed" in caplog.text


def test_a_tile_is_shown_from_its_role_up_and_links_only_to_pages_the_user_may_open(app, make_user):
    from core.dashboard import Cell, Line, TileBody, tiles_for

    def build(day):
        return TileBody((Line("レポート", (Cell("1 件", "reports.index", {"from": day.today}),), "report"),
                         Line("留守番電話", (Cell("2 件", "ivr.voicemails"),), "voicemail"),
                         Line("ない画面", (Cell("3 件", "nowhere.page"),), "missing")))

    dashboard.register_tile(app, "mixed", "混在", build, role="staff", order=1)
    dashboard.register_tile(app, "secret", "管理者向け", build, role="admin", order=2)
    staff, manager = make_user("s", "staff"), make_user("m", "manager")
    with app.test_request_context():
        staff_tiles = {t.key: t for t in tiles_for(app, staff)}
        manager_tiles = {t.key: t for t in tiles_for(app, manager)}
    assert "secret" not in staff_tiles and "secret" not in manager_tiles
    assert [cell.url for line in staff_tiles["mixed"].lines for cell in line.cells] == [None, "/ivr/voicemails", None]
    assert [cell.url for line in manager_tiles["mixed"].lines for cell in line.cells] == [
        "/reports/?from=2026-01-05", "/ivr/voicemails", None]
