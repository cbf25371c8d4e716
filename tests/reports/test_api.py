"""Report API: call records and published report rows for a date range; Japanese JSON errors; OpenAPI."""
import datetime as dt

import pytest

from core.security import issue_api_token
from reports.jobs import refresh_reports
from tests.reports.conftest import DIALLED


@pytest.fixture
def token(db):
    return issue_api_token("reports-test")[1]


@pytest.fixture
def api(client, token):
    def get(path, **params):
        return client.get(path, query_string=params, headers={"Authorization": f"Bearer {token}"})

    return get


@pytest.fixture
def calls(clock, make_call, menu_flow):
    for day in (2, 3, 4):
        make_call(dt.datetime(2026, 2, day, 10), flow=menu_flow,
                  events=[("node", "main", "受付メニュー", ""), ("digit", "main", "受付メニュー", "2")])
        make_call(dt.datetime(2026, 2, day, 11), outcome="abandoned", abandoned_in=("main", "受付メニュー"),
                  caller="+818055556666", flow=menu_flow)
    clock.set("2026-02-05 13:00")
    refresh_reports()  # publishes through 2026-02-03


def test_calls_for_a_range_with_their_paths_and_paging(calls, api):
    first = api("/api/v1/calls", **{"from": "2026-02-02", "to": "2026-02-04", "limit": "4"})
    assert first.status_code == 200
    body = first.get_json()
    assert (body["count"], body["from"], body["to"]) == (4, "2026-02-02", "2026-02-04")
    call = body["calls"][0]
    assert call["started_at"] == "2026-02-02 10:00:00" and call["to_number"] == DIALLED
    assert call["outcome"] == "completed" and call["outcome_label"] == "完了"
    assert [step["kind"] for step in call["path"]] == ["node", "digit"] and call["path"][1]["digits"] == "2"
    rest = api("/api/v1/calls", **{"from": "2026-02-02", "to": "2026-02-04", "after": str(body["next_after"])})
    assert rest.get_json()["count"] == 2 and rest.get_json()["next_after"] is None
    by_caller = api("/api/v1/calls", **{"from": "2026-02-02", "to": "2026-02-04", "caller": "080-5555-6666"})
    assert [c["outcome"] for c in by_caller.get_json()["calls"]] == ["abandoned"] * 3


def test_report_rows_are_the_published_ones(calls, api):
    body = api("/api/v1/report", **{"from": "2026-02-02", "to": "2026-02-04"}).get_json()
    assert body["published_through"] == "2026-02-03"
    assert body["refreshed_at"] == "2026-02-05 13:00:00"
    assert [(row["date"], row["dialled_number"], row["calls"], row["abandoned"]) for row in body["rows"]] == [
        ("2026-02-02", DIALLED, 2, 1), ("2026-02-03", DIALLED, 2, 1)]
    assert body["totals"]["calls"] == 4
    assert body["abandoned_by_menu"] == [{"node_key": "main", "node_name": "受付メニュー", "count": 2}]
    assert body["choices_by_menu"][0]["choices"] == [{"label": "2", "count": 2}]


BAD_QUERIES = [
    ({}, "from、to を YYYY-MM-DD 形式で指定してください。"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from に存在しない日付が指定されています（入力: 2026-02-30）"),
    ({"from": "٢٠٢٦-02-01", "to": "2026-02-02"}, "from は YYYY-MM-DD の形式で入力してください"),
    ({"from": "2026-02-04", "to": "2026-02-02"}, "「from」は「to」以前の日付にしてください"),
    ({"from": "2025-01-01", "to": "2026-02-02"}, "「from」は保存期間内"),
    ({"from": "2026-02-01", "to": "2026-02-09"}, "「to」に未来の日付 (2026-02-09) は指定できません"),
]


def test_bad_ranges_get_japanese_json_errors(calls, api):
    for path in ("/api/v1/calls", "/api/v1/report"):
        for params, message in BAD_QUERIES:
            response = api(path, **params)
            assert response.status_code == 400
            error = response.get_json()["error"]
            assert error["code"] == "invalid_range"
            assert error["message"].startswith(message), error
    response = api("/api/v1/calls", **{"from": "2026-02-01", "to": "2026-02-02", "limit": "0"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "limit は 1〜1000 の範囲で入力してください（入力: 0）。"


def test_a_token_is_required(client):
    response = client.get("/api/v1/calls?from=2026-01-01&to=2026-01-02")
    assert response.status_code == 401
    assert "Bearer" in response.get_json()["error"]["message"]


def test_paths_are_in_the_openapi_document(app):
    from core.openapi import document

    doc = document(app)
    assert {"/api/v1/calls", "/api/v1/report"} <= set(doc["paths"])
    assert doc["paths"]["/api/v1/calls"]["get"]["parameters"][0]["name"] == "from"
    assert "CallList" in doc["components"]["schemas"] and "Report" in doc["components"]["schemas"]
