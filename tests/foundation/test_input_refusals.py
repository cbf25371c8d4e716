"""Issue 11 item 9, one test per input that gave a 500: each is now refused with a Japanese message (pages: inline
with the input kept; API and JSON endpoints: the error shape), or, for Twilio's own reports, used safely."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest

from core.models import CompanyHoliday
from core.security import issue_api_token
from tests.support.hostile import JAPANESE, make_guidance

HUGE = "99999999999999999999999"


def html(response) -> str:
    return response.get_data(as_text=True)


def json_error(response, status: int = 400) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    message = response.json["error"]["message"]
    assert JAPANESE.search(message), message
    return message


@pytest.fixture
def api(client):
    _, raw = issue_api_token("refusals")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def flow(app):
    from ivr.store import save_flow
    from sms.models import StorageBox
    from tests.ivr.builders import menu_flow

    StorageBox.create(number=1, name="ご案内", body="詳細: {url}", url="https://example.jp/a")
    guidance = make_guidance()
    return save_flow(menu_flow(guidance), name="代表", number="+815000000000"), guidance


@pytest.mark.parametrize("query, words", [
    ("limit=²", "limit は半角数字（整数）で入力してください（入力: ²）"),
    (f"limit={HUGE}", "limit は 1〜1000 の範囲で入力してください"),
    ("after=-1", "after は 0〜2,147,483,647 の範囲で入力してください（入力: -1）"),
    (f"after={HUGE}", "after は 0〜2,147,483,647 の範囲で入力してください"),
    ("after=١٢", "after は半角数字（整数）で入力してください"),
])
def test_calls_api_limit_and_after(client, api, query, words):
    response = client.get(f"/api/v1/calls?from=2026-01-01&to=2026-01-05&{query}", headers=api)
    assert words in json_error(response)
    assert response.json["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize("form, words", [
    ({"number": "090-1234-5678", "action": "block", "block_flow": "²"}, "着信拒否の対象フローが見つかりません。"),
    ({"number": "090-1234-5678", "action": "block", "block_flow": HUGE}, "着信拒否の対象フローが見つかりません。"),
    ({"number": "090-1234-5678", "action": "route", "target": "²:main"}, "振り分け先のノードを選んでください。"),
    ({"number": "090-1234-5678", "action": "route", "target": f"{HUGE}:main"}, "振り分け先のノードを選んでください。"),
])
def test_caller_rules_with_unusable_flow_ids(admin_client, flow, form, words):
    response = admin_client.post("/ivr/callers", data={**form, "note": "入力を残す"})
    assert response.status_code == 400 and words in html(response)
    assert 'value="入力を残す"' in html(response) or "入力を残す" in html(response)


@pytest.mark.parametrize("value", ["²", HUGE, "-1"])
def test_guidance_form_with_unusable_voice_file_ids(admin_client, app, value):
    response = admin_client.post("/guidance/guidances/new", data={"name": "案内", "kind": "pb",
                                                                  "voice_file_ids": value})
    assert response.status_code == 400
    assert "音声ファイル" in html(response) and 'value="案内"' in html(response)


@pytest.mark.parametrize("field, value, words", [
    ("nodes-0-guidance", "²", "ガイダンスの選択が正しくありません。"),
    ("nodes-0-guidance", HUGE, "ガイダンスの選択が正しくありません。"),
    ("nodes-0-timeout", "²", "入力タイムアウト（秒）は半角数字（整数）で入力してください（入力: ²）"),
    ("nodes-0-timeout", HUGE, "入力タイムアウト（秒）は 0〜9999 の範囲で入力してください"),
    ("nodes-0-digits", "٣", "桁数は半角数字（整数）で入力してください"),
])
def test_flow_form_with_unusable_numbers(admin_client, flow, field, value, words):
    saved, guidance = flow
    form = {"name": "新フロー", "number": "050-2222-3333", "entry": "top", "nodes-0-key": "top",
            "nodes-0-name": "受付", "nodes-0-kind": "menu", "nodes-0-guidance": str(guidance["menu"]),
            "nodes-0-digits": "1", "nodes-0-timeout": "5", "nodes-0-max_tries": "3", "nodes-0-exit-fallback": "top",
            "nodes-0-weekdays": "²", field: value}
    response = admin_client.post("/ivr/flows/new", data=form)
    assert response.status_code == 400 and words in html(response)
    assert 'value="新フロー"' in html(response)
    menu = admin_client.post(f"/ivr/menus/{menu_id(saved)}", data={field.removeprefix("nodes-0-"): value})
    assert menu.status_code == 400 and words in html(menu)  # the PB menu page reads the same fields


def menu_id(flow) -> int:
    from ivr.models import Node

    return Node.get((Node.flow == flow.id) & (Node.kind == "menu")).id


@pytest.mark.parametrize("column", ["²", HUGE, "-1", "0"])
def test_bulk_csv_column_that_is_no_column(admin_client, app, column):
    data = "名前,電話番号\n山田,090-1234-5678\n".encode()
    response = admin_client.post("/bulk/new", data={"source": "csv", "column": column,
                                                    "csv_file": (io.BytesIO(data), "list.csv")},
                                 content_type="multipart/form-data")
    assert response.status_code == 400
    assert f"指定された列「{column}」が CSV にありません。" in html(response)


@pytest.mark.parametrize("query, words", [
    ("until=9999-12-31", "期間（まで）は 1900〜2100 年の日付で入力してください（入力: 9999-12-31）"),
    ("since=0001-01-01", "期間（から）は 1900〜2100 年の日付で入力してください"),
    ("until=２０２６-01-01", "期間（まで）は YYYY-MM-DD の形式で入力してください"),
    ("until=2026-02-30", "期間（まで）に存在しない日付が指定されています"),
])
def test_bulk_caller_period(admin_client, query, words):
    response = admin_client.get(f"/bulk/new?{query}")
    assert response.status_code == 400 and words in html(response)
    typed = query.split("=", 1)[1]
    assert f'value="{typed}"' in html(response)  # the input is kept
    posted = admin_client.post(f"/bulk/new?{query}", data={"source": "paste", "pasted": "090-1234-5678"})
    assert posted.status_code in (302, 400)


@pytest.mark.parametrize("count, words", [
    ("²", "枚数は半角数字（整数）で入力してください（入力: ²）"),
    (HUGE, "枚数は -1,000,000,000〜1,000,000,000 の範囲で入力してください"),
    ("1e9", "枚数は半角数字（整数）で入力してください"),
])
def test_ticket_count(admin_client, count, words):
    response = admin_client.post("/bulk/tickets", data={"count": count, "reason": "購入"})
    assert response.status_code == 400 and words in html(response)
    assert 'value="購入"' in html(response)


def test_ticket_balance_never_passes_its_ceiling(admin_client):
    from sms import tickets

    assert admin_client.post("/bulk/tickets", data={"count": "1000000000", "reason": "購入"}).status_code == 302
    over = admin_client.post("/bulk/tickets", data={"count": "1", "reason": "購入"})
    assert over.status_code == 400 and "残り枚数は 1,000,000,000 枚までです" in html(over)
    assert tickets.balance() == 1_000_000_000


@pytest.mark.parametrize("body", [
    {"recipients": ["090-1234-5678"], "messages": [{"box": int(HUGE)}]},
    {"recipients": ["090-1234-5678"], "messages": [{"box": -1}]},
    {"recipients": ["090-1234-5678"], "messages": [{"box": [1]}]},
    {"recipients": ["090-1234-5678"], "messages": [{"box": "²"}]},
])
def test_bulk_api_box_numbers(client, api, body):
    response = client.post("/api/v1/bulk-sends", json=body, headers=api, csrf=False)
    assert "蓄積BOX番号は" in json_error(response)


DEEP = "[" * 100_000 + "]" * 100_000
JSON_BODIES = [
    (DEEP, "入れ子が深すぎます"),
    ('{"a":' * 30_000 + "1" + "}" * 30_000, "入れ子が深すぎます"),  # deep, yet within every JSON route's body limit
    ("[" * 25 + "]" * 25, "入れ子が深すぎます"),
    ("[]", "JSON オブジェクト（{…}）で送信してください"),
    ('"文字列"', "JSON オブジェクト（{…}）で送信してください"),
    ("null", "JSON オブジェクト（{…}）で送信してください"),
    ('{"to": "\\ud800", "text": "a", "call_sid": "\\udfff"}', "対になっていないサロゲート"),
    ('{"\\udc00": 1}', "対になっていないサロゲート"),
    ('{"to": "090-1234-5678", "box": Infinity, "seconds": Infinity}', "Infinity"),
    ('{"to": "090-1234-5678", "box": NaN}', "NaN"),
    ('{"to": "090-1234-5678", "box": 1e999}', "1e999"),
    ("{", "JSON として読み取れません"),
]
JSON_PATHS = ["/api/v1/messages", "/api/v1/bulk-sends", "/sms/check", "/ivr/simulator/start", "/ivr/simulator/send",
              "/ivr/simulator/hangup"]


@pytest.mark.parametrize("path", JSON_PATHS)
def test_json_endpoints_refuse_bodies_they_cannot_use(admin_client, api, path, flow):
    headers = {**api, "X-CSRFToken": admin_client.csrf_token()}
    for body, words in JSON_BODIES:
        response = admin_client.post(path, data=body.encode(), content_type="application/json", headers=headers,
                                     csrf=False)
        assert words in json_error(response), (path, body[:40])
        assert response.json["error"]["code"] == "invalid_json"
    form = admin_client.post(path, data={"text": "a"}, headers=headers)
    assert "Content-Type: application/json" in json_error(form)


def test_messages_api_box_too_big_for_any_column(client, api):
    response = client.post("/api/v1/messages", json={"to": "090-1234-5678", "box": int(HUGE)}, headers=api,
                           csrf=False)
    assert "box（蓄積BOX番号）は 1〜9999 の整数" in json_error(response)


@pytest.mark.parametrize("duration", [HUGE, "9" * 5000, "²", "-5", "86401"])
def test_a_signed_status_callback_with_an_unusable_duration_still_closes_the_call(app, client, clock, duration):
    from core.twilio import public_base_url, signature_for
    from ivr.models import Call

    started = dt.datetime(2026, 1, 5, 9, 59, 30)
    Call.create(call_sid="CA" + "2" * 32, from_number="+819012345678", to_number="+815000000000",
                started_at=started)
    params = {"CallSid": "CA" + "2" * 32, "CallStatus": "completed", "CallDuration": duration,
              "From": "+819012345678", "To": "+815000000000"}
    signature = signature_for(public_base_url() + "/twilio/voice/status", params)
    response = client.post("/twilio/voice/status", data=params, headers={"X-Twilio-Signature": signature}, csrf=False)
    assert response.status_code == 204
    call = Call.get(Call.call_sid == "CA" + "2" * 32)
    assert call.ended_at is not None and call.duration_seconds == 30  # the clock's measure, 09:59:30 → 10:00


@pytest.mark.parametrize("year", ["0", "10000", "1899", "2101", "²", HUGE])
def test_holidays_year_out_of_range(admin_client, year):
    response = admin_client.get(f"/admin/holidays?year={year}")
    assert response.status_code == 400 and "年は" in html(response)
    assert f"会社休業日 {dt.date(2026, 1, 5).year}年" in html(response)  # this year shown instead


@pytest.mark.parametrize("day, words", [
    ("9999-12-31", "日付は 1900〜2100 年の日付で入力してください（入力: 9999-12-31）"),
    ("0000-01-01", "日付に存在しない日付が指定されています"),
    ("2026-13-01", "日付に存在しない日付が指定されています"),
    ("", "日付を入力してください。"),
])
def test_holidays_day_out_of_range(admin_client, day, words):
    response = admin_client.post("/admin/holidays", data={"day": day, "name": "夏季休業"})
    assert response.status_code == 400 and words in html(response)
    assert 'value="夏季休業"' in html(response) and CompanyHoliday.select().count() == 0


def test_a_holiday_is_added_and_renamed_on_both_databases(admin_client):
    """PostgreSQL has no INSERT OR REPLACE: adding a company holiday there was a 500 (found by the walk)."""
    for name in ("年末休業", "年末年始休業"):
        response = admin_client.post("/admin/holidays", data={"day": "2026-12-29", "name": name})
        assert response.status_code == 302
    assert [(h.day, h.name) for h in CompanyHoliday.select()] == [(dt.date(2026, 12, 29), "年末年始休業")]


def test_holiday_delete_with_a_day_that_is_no_date_is_not_found(admin_client):
    for day in ("abc", "9999-12-31x", "2026-02-30"):
        response = admin_client.post(f"/admin/holidays/{day}/delete")
        assert response.status_code == 404 and "ページが見つかりません。" in html(response)


def test_the_year_links_stop_at_the_years_a_date_may_have(admin_client):
    assert "2101年" not in html(admin_client.get("/admin/holidays?year=2100"))
    assert "1899年" not in html(admin_client.get("/admin/holidays?year=1900"))


def test_json_api_error_shape_is_the_apis(client, api):
    response = client.post("/api/v1/messages", data=json.dumps([1]), content_type="application/json",
                           headers=api, csrf=False)
    assert set(response.json) == {"error"} and set(response.json["error"]) == {"code", "message"}
