"""JSON API (R-71, SPEC §11): send by box or text, read the status, Japanese JSON errors, idempotency,
the OpenAPI document, and a property-based run (Schemathesis) over that document with no 500."""
import pytest

from core.security import issue_api_token
from sms import links
from sms.models import Message
from sms.outbox import run_dispatch


@pytest.fixture
def token(app):
    return issue_api_token("基幹システム")[1]


@pytest.fixture
def api(client, token):
    class Api:
        def post(self, body, **headers):
            return client.post("/api/v1/messages", json=body, csrf=False,
                               headers={"Authorization": f"Bearer {token}", **headers})

        def get(self, message_id):
            return client.get(f"/api/v1/messages/{message_id}", headers={"Authorization": f"Bearer {token}"})

    return Api()


def test_send_a_box_then_read_its_status(api, clock, box):
    response = api.post({"to": "090-1234-5678", "box": 7})
    assert response.status_code == 201
    created = response.get_json()
    assert (created["to"], created["status"], created["box"], created["parts"], created["resend_count"]) == (
        "+819012345678", 1, 7, 1, 0)
    assert response.headers["Location"] == f"/api/v1/messages/{created['id']}"
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    status = api.get(created["id"]).get_json()
    assert {k: status[k] for k in ("id", "to", "status", "error_message", "parts", "resend_count")} == {
        "id": created["id"], "to": "+819012345678", "status": 2, "error_message": "", "parts": 1, "resend_count": 0}


def test_send_free_text_with_parts_counted(api):
    response = api.post({"to": "08012345678", "text": "あ" * 71})
    assert response.status_code == 201 and response.get_json()["parts"] == 2
    assert Message.get_by_id(response.get_json()["id"]).source == "api"


def test_failed_message_reports_the_japanese_error(api, clock):
    created = api.post({"to": "090-9999-0005", "text": "失敗します"}).get_json()
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()
    status = api.get(created["id"]).get_json()
    assert (status["status"], status["error_message"]) == (3, "現在使われていない番号")


@pytest.mark.parametrize("body, status, code, words", [
    ({"to": "050-1234-5678", "text": "こんにちは"}, 422, "not_mobile", "IP 電話"),
    ({"to": "090-0123-4567", "text": "こんにちは"}, 422, "not_mobile", "割り当てられていない"),
    ({"to": "090-1234-56", "text": "こんにちは"}, 422, "not_mobile", "携帯電話番号は 11 桁です（入力は 9 桁）"),
    ({"to": "+8190123456", "text": "こんにちは"}, 422, "not_mobile", "携帯電話番号は 11 桁です"),
    ({"to": "09012345678", "text": "髙橋様"}, 422, "invalid_text", "「髙」(U+9AD9)"),
    ({"to": "09012345678", "text": "あ" * 661}, 422, "invalid_text", "本文が長すぎます"),
    ({"to": "09012345678", "box": 99}, 422, "no_box", "蓄積BOX 99 は登録されていません。"),
    ({"to": "09012345678"}, 400, "invalid_request", "どちらか一方"),
    ({"to": "09012345678", "box": 7, "text": "両方"}, 400, "invalid_request", "どちらか一方"),
    ({"to": 9012345678, "box": 7}, 400, "invalid_request", "to（送信先の携帯電話番号）"),
    ({"to": "09012345678", "box": "7"}, 400, "invalid_request", "1〜9999 の整数"),
    ({"to": "09012345678", "box": True}, 400, "invalid_request", "1〜9999 の整数"),
    (["not", "an", "object"], 400, "invalid_json", "JSON オブジェクト"),
])
def test_bad_requests_get_japanese_json_errors(api, box, body, status, code, words):
    response = api.post(body)
    error = response.get_json()["error"]
    assert (response.status_code, error["code"]) == (status, code)
    assert words in error["message"]
    assert Message.select().where(Message.state != "failed").count() == 0


def test_opted_out_number_is_refused(api, box):
    links.opt_out("+819012345678")
    response = api.post({"to": "090-1234-5678", "box": 7})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "opted_out"


def test_idempotency_key_returns_the_first_message(api, box):
    first = api.post({"to": "090-1234-5678", "box": 7}, **{"Idempotency-Key": "order-123"}).get_json()
    again = api.post({"to": "090-1234-5678", "box": 7}, **{"Idempotency-Key": "order-123"}).get_json()
    assert first["id"] == again["id"] and Message.select().count() == 1


def test_token_is_required(client, box):
    response = client.post("/api/v1/messages", json={"to": "09012345678", "box": 7}, csrf=False)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    wrong = client.get("/api/v1/messages/1", headers={"Authorization": "Bearer ivr_wrong"})
    assert wrong.status_code == 401


def test_unknown_and_huge_ids_are_404(api):
    for message_id in (12345, 99999999999999999999):
        response = api.get(message_id)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_openapi_document_describes_the_sms_paths(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert set(doc["paths"]["/api/v1/messages"]) == {"post"}
    assert doc["components"]["schemas"]["Message"]["properties"]["status"]["enum"] == [0, 1, 2, 3]


@pytest.mark.sqlite_only
def test_schemathesis_finds_no_server_error(app, token, box):
    """Every operation of /api/v1/openapi.json (SMS, bulk, calls, report, whoami), valid and invalid input, no 5xx;
    every answer also conforms to its documented content type and schema."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.config import SchemathesisConfig
    from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearer": {"bearer": token}}}})
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=config)
    documented = {(method.upper(), path) for path, item in schema.raw_schema["paths"].items() for method in item}
    strategy = st.one_of(schema.as_strategy(GenerationMode.POSITIVE), schema.as_strategy(GenerationMode.NEGATIVE))
    seen = set()

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy, real_number=st.booleans())
    def run(case, real_number):
        if real_number and isinstance(case.body, dict) and isinstance(case.body.get("to"), str):
            case.body["to"] = "090-1234-5678"  # so generated texts and boxes also reach the sending path
        response = case.call()
        seen.add((case.method, case.path, response.status_code))
        assert response.status_code < 500, (case.method, case.path, case.body, response.text)
        checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
        case.validate_response(response, checks=checks)

    run()
    # The generated cases depend on the process's hash seed; these three make sure the success path and both
    # refusals are always checked against the document, whatever the run above happened to draw.
    operation = schema["/api/v1/messages"]["POST"]
    for body in ({"to": "090-1234-5678", "box": 7}, {"to": "03-1234-5678", "box": 7}, {"box": "七"}):
        case = operation.Case(body=body, media_type="application/json")
        response = case.call(headers={"Authorization": f"Bearer {token}"})
        seen.add((case.method, case.path, response.status_code))
        case.validate_response(response, checks=[not_a_server_error, content_type_conformance,
                                                 response_schema_conformance])
    assert {(method, path) for method, path, _ in seen} == documented
    assert ("POST", "/api/v1/messages", 201) in seen
    assert {status for method, path, status in seen if path == "/api/v1/messages"} >= {201, 400, 422}
