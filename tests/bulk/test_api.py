"""Bulk API: POST /api/v1/bulk-sends and GET /api/v1/bulk-sends/<id>, with Japanese JSON errors."""
from __future__ import annotations

import pytest

from sms import tickets
from sms.bulk import runner
from sms.bulk.models import BulkSend


@pytest.fixture
def api(app, client):
    from core.security import issue_api_token

    _, raw = issue_api_token("bulk-tests")
    headers = {"Authorization": f"Bearer {raw}"}

    class Api:
        def post(self, body):
            return client.post("/api/v1/bulk-sends", json=body, headers=headers, csrf=False)

        def get(self, send_id):
            return client.get(f"/api/v1/bulk-sends/{send_id}", headers=headers)

    return Api()


def test_create_immediate_send_and_follow_its_progress(api, clock):
    response = api.post({"recipients": ["090-1234-5678", "09012345678", "0312345678", "080-1111-2222"],
                         "messages": ["お知らせ 1", {"text": "お知らせ 2"}], "title": "1月の案内"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "scheduled" and body["immediate"] is True and body["title"] == "1月の案内"
    assert body["recipients"] == 2 and body["tickets_needed"] == 4
    assert body["duplicates"] == [{"index": 2, "number": "09012345678"}]
    assert body["skipped"][0]["index"] == 3 and "固定電話" in body["skipped"][0]["reason"]
    assert BulkSend.get_by_id(body["id"]).via == "api"

    runner.poll()
    status = api.get(body["id"]).get_json()
    assert status["status"] == "completed" and status["started_at"] == "2026-01-05T10:00:00"
    assert status["progress"] == {"total": 4, "remaining": 4, "sent": 0, "delivered": 0, "failed": 0, "percent": 0}


def test_scheduled_send_by_api(api, clock):
    body = api.post({"recipients": ["09012345678"], "messages": [{"text": "明日の予約"}],
                     "scheduled_at": "2026-01-06T09:00"}).get_json()
    assert body["immediate"] is False and body["scheduled_at"] == "2026-01-06T09:00:00"


@pytest.mark.parametrize("body, status, code, message", [
    ({"recipients": [], "messages": ["x"]}, 400, "invalid", "recipients に電話番号の配列を指定してください。"),
    ({"recipients": ["09012345678"]}, 400, "invalid", "messages に 1〜2 件のメッセージを指定してください。"),
    ({"recipients": ["09012345678"], "messages": ["a", "b", "c"]}, 400, "invalid", "messages に 1〜2 件"),
    ({"recipients": ["09012345678"], "messages": [{}]}, 400, "invalid", "messages[1] には text（本文）か box"),
    ({"recipients": ["09012345678"], "messages": ["😀"]}, 400, "invalid", "メッセージ1: ISO-2022-JP"),
    ({"recipients": ["0312345678"], "messages": ["x"]}, 400, "no_recipients", "配信できる電話番号がありません"),
    ({"recipients": ["09012345678"], "messages": ["x"], "scheduled_at": "2025-01-01T00:00"}, 400, "invalid",
     "は過去の時刻です"),
])
def test_bad_requests_get_japanese_errors(api, clock, body, status, code, message):
    response = api.post(body)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and message in error["message"]
    assert not BulkSend.select().exists()


def test_too_few_tickets_is_409_and_leaves_nothing(api, tickets_on, clock):
    tickets.add(3, reason="購入", actor="admin1")
    response = api.post({"recipients": ["09011112222", "09033334444"], "messages": ["一", "二"]})
    assert response.status_code == 409
    assert response.get_json()["error"] == {
        "code": "insufficient_tickets",
        "message": "チケットが不足しているため配信できません（必要 4 枚、残り 3 枚）。チケットを追加してから、もう一度お試しください。"}
    assert not BulkSend.select().exists()


def test_token_required_unknown_id_and_not_json(api, client):
    assert client.post("/api/v1/bulk-sends", json={}, csrf=False).status_code == 401
    missing = api.get(999)
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "一括配信 999 は見つかりません。"
    assert api.post("not json").get_json()["error"]["code"] == "invalid_json"


def test_paths_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["paths"]["/api/v1/bulk-sends"]) == {"post"}
    assert "get" in document["paths"]["/api/v1/bulk-sends/{id}"]
    assert "BulkSendRequest" in document["components"]["schemas"]
