"""The WSGI shortcut in front of the voice webhooks: signed form posts are answered without Flask's request
machinery, exactly as the views would answer them; everything else reaches the views and is refused there."""
import logging
import threading
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from urllib.parse import urlencode, urlsplit

import pytest

from core.db import database
from core.extensions import SERVER_ERROR_MESSAGE
from core.twilio import signature_for
from ivr.models import Call, CallEvent
from ivr.webhooks import FORM_TYPE, plain_form
from sms.models import Message
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.phone import Phone

VIEW_FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"  # not the shortcut's: Flask's views answer


@pytest.fixture
def flask_requests(app):
    """Paths of the requests that went through Flask's request machinery (its before-request hooks)."""
    seen: list[str] = []
    from flask import request

    app.before_request_funcs.setdefault(None, []).insert(0, lambda: seen.append(request.path) and None)
    return seen


class ViewPhone(Phone):
    """A Twilio that declares the form's charset: the shortcut leaves such posts to the Flask views."""

    def post(self, url, params, signature=None):
        signature = signature_for(url, params) if signature is None else signature
        return self.client.post(urlsplit(url).path, data=urlencode(params), content_type=VIEW_FORM_TYPE,
                                headers={"X-Twilio-Signature": signature}, csrf=False)


def call_record(call):
    record = Call.get(Call.call_sid == call.sid)
    kinds = [(e.kind, e.node_key, e.digits) for e in CallEvent.select().where(CallEvent.call == record.id)
             .order_by(CallEvent.id)]
    return (record.step, record.call_state(), record.outcome, record.last_node_key), kinds


def test_signed_posts_skip_flask_and_answer_exactly_as_the_views(phone, client, menu_flow_saved, flask_requests):
    by_shortcut = phone.dial(FLOW_NUMBER, sid="CA" + "a" * 32)
    by_shortcut.press("7")
    by_shortcut.press("1")
    assert flask_requests == []

    by_views = ViewPhone(client).dial(FLOW_NUMBER, sid="CA" + "b" * 32)
    by_views.press("7")
    by_views.press("1")
    assert flask_requests == ["/twilio/voice", "/twilio/voice/step/1", "/twilio/voice/step/2"]

    assert by_shortcut.responses == by_views.responses
    assert call_record(by_shortcut) == call_record(by_views)
    assert Message.select().where(Message.call_sid.in_([by_shortcut.sid, by_views.sid])).count() == 2


def test_status_callback_by_the_shortcut_answers_204_and_records_the_abandonment(phone, menu_flow_saved,
                                                                                 flask_requests):
    call = phone.dial(FLOW_NUMBER)
    response = phone.post("http://localhost/twilio/voice/status", call.params(CallStatus="completed"))
    assert response.status_code == 204 and response.get_data() == b""
    record = Call.get(Call.call_sid == call.sid)
    # hung up at once: during the opening, which plays before the menu in the same document
    assert (record.outcome, record.abandoned_node_key, record.abandoned_part) == ("abandoned", "greeting", "greeting")
    assert flask_requests == []


def test_forged_posts_go_on_to_the_views_and_get_403(phone, menu_flow_saved, flask_requests):
    call = phone.dial(FLOW_NUMBER)
    response = phone.post(call.gather.get("action"), call.params(Digits="1"), signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert flask_requests == ["/twilio/voice/step/1"]
    assert Message.select().count() == 0


def test_a_nul_character_reaches_the_views_and_gets_the_japanese_400(phone, menu_flow_saved, flask_requests):
    call = phone.dial(FLOW_NUMBER)
    response = phone.post(call.gather.get("action"), call.params(Digits="1\x00"))
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "リクエストが正しくありません。"
    assert flask_requests == ["/twilio/voice/step/1"]
    assert Call.get(Call.call_sid == call.sid).step == 1


@contextmanager
def events_table_gone():
    """The events INSERT of every step fails while this lasts: a real database error, not a patched function."""
    table = CallEvent._meta.table_name
    database.execute_sql(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        yield
    finally:
        database.execute_sql(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')


def test_a_failed_step_changes_nothing_and_twilios_retry_then_succeeds(phone, client, menu_flow_saved, caplog):
    call = phone.dial(FLOW_NUMBER)
    action, params = call.gather.get("action"), call.params(Digits="1")
    with events_table_gone(), caplog.at_level(logging.ERROR):
        failed = phone.post(action, params)
        failed_in_view = ViewPhone(client).post(action, params)
    assert failed.status_code == failed_in_view.status_code == 500
    assert failed.get_data(as_text=True) == failed_in_view.get_data(as_text=True) == SERVER_ERROR_MESSAGE
    assert failed.mimetype == failed_in_view.mimetype == "text/plain"
    assert "unhandled error on Twilio voice webhook" in caplog.text
    assert Call.get(Call.call_sid == call.sid).step == 1  # the claim was rolled back with the rest
    assert Message.select().count() == 0

    call.answer(phone.post(action, params))
    assert call.hung_up and Message.select().where(Message.call_sid == call.sid).count() == 1


def test_odd_signatures_and_bodies_go_on_to_the_views(app, phone, client, menu_flow_saved, flask_requests):
    call = phone.dial(FLOW_NUMBER)
    action = call.gather.get("action")
    assert phone.post(action, call.params(Digits="1"), signature="署名").status_code == 403
    # An invalid escape: werkzeug keeps "%FF" as it is, so only a signature over that text can match.
    body = urlencode(call.params()) + "&Digits=%FF"
    assert signed_raw(client, action, body, signature_for(action, {**call.params(), "Digits": "\ufffd"})) == 403
    assert signed_raw(client, action, body, signature_for(action, {**call.params(), "Digits": "%FF"})) == 200
    # A body shorter than its Content-Length (the client went away).
    full = urlencode(call.params(Digits="1"))
    short = client.post("/twilio/voice/step/2", data=full[:-5], content_type=FORM_TYPE, csrf=False,
                        headers={"X-Twilio-Signature": signature_for(action, call.params(Digits="1"))},
                        environ_overrides={"CONTENT_LENGTH": str(len(full))})
    assert short.status_code == 400
    app.config["MAX_CONTENT_LENGTH"] = 64
    assert phone.post(action, call.params(Digits="1")).status_code == 413
    assert flask_requests == ["/twilio/voice/step/1"] * 3 + ["/twilio/voice/step/2", "/twilio/voice/step/1"]
    assert Message.select().count() == 0


def signed_raw(client, url, body: str, signature: str) -> int:
    return client.post(urlsplit(url).path, data=body, content_type=FORM_TYPE, csrf=False,
                       headers={"X-Twilio-Signature": signature}).status_code


def test_a_thread_without_a_connection_gets_one_for_the_request_only(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    action, params = call.gather.get("action"), call.params(Digits="9")
    signature = signature_for(action, params)
    seen = {}

    def twilio_thread():  # as under waitress: a worker thread with no connection (nor app context) of its own
        seen["before"] = database.is_closed()
        seen["status"] = phone.post(action, params, signature=signature).status_code
        seen["after"] = database.is_closed()

    worker = threading.Thread(target=twilio_thread)
    worker.start()
    worker.join()
    assert seen == {"before": True, "status": 200, "after": True}
    assert not database.is_closed()  # the test's own connection (an outer request's) was left open
    assert Call.get(Call.call_sid == call.sid).call_state().misses == {"main": 1}


def test_the_simulator_posts_through_the_shortcut_inside_its_own_request(staff_client, menu_flow_saved,
                                                                         flask_requests):
    started = staff_client.post("/ivr/simulator/start", json={"to": FLOW_NUMBER, "from": "090-1234-5678"}).json
    action = ET.fromstring(started["twiml"]).find("./Gather").get("action")
    sent = staff_client.post("/ivr/simulator/send",
                             json={"call_sid": started["call_sid"], "url": action, "params": {"Digits": "1"}}).json
    assert (started["status"], sent["status"]) == (200, 200)
    assert Message.select().where(Message.call_sid == started["call_sid"]).count() == 1
    assert flask_requests == ["/ivr/simulator/start", "/ivr/simulator/send"]  # the webhooks went by the shortcut
    assert staff_client.get("/ivr/simulator").status_code == 200  # still logged in


def test_plain_form_reads_fields_as_flask_does_and_declines_what_the_views_must_refuse():
    assert plain_form(b"Digits=1&From=%2B819012345678&Empty=") == {"Digits": "1", "From": "+819012345678",
                                                                   "Empty": ""}
    assert plain_form(b"Digits=1&Digits=2") == {"Digits": "1"}  # Flask's form.to_dict() keeps the first too
    assert plain_form("Name=テスト".encode()) == {"Name": "テスト"}
    assert plain_form(b"Digits=1%00") is None
    assert plain_form(b"Digits=\xff\xfe") is None
    assert plain_form(b"Digits=%FF") is None


@pytest.mark.parametrize("digits", ["1", "9"])
def test_two_copies_of_a_gather_at_the_same_moment_act_once(app, phone, menu_flow_saved, digits):
    """Twilio may retry while the first request is still running: one answer for both, and the key press
    recorded once (one SMS for 1; for a wrong key, one mis-entry)."""
    for attempt in range(5):
        call = phone.dial(FLOW_NUMBER)
        action, params = call.gather.get("action"), call.params(Digits=digits)
        signature = signature_for(action, params)
        together = threading.Barrier(2)
        answers = []

        def twilio_copy():
            together.wait(5)
            answers.append(phone.post(action, params, signature=signature).get_data(as_text=True))
            database.close()

        copies = [threading.Thread(target=twilio_copy) for _ in range(2)]
        for copy in copies:
            copy.start()
        for copy in copies:
            copy.join(30)
        assert len(answers) == 2 and answers[0] == answers[1], attempt
        record = Call.get(Call.call_sid == call.sid)
        pressed = [e.kind for e in CallEvent.select().where((CallEvent.call == record.id) & (CallEvent.digits != ""))]
        assert record.step == 2, attempt
        if digits == "1":
            assert pressed == ["digit"] and record.outcome == "completed", attempt
            assert Message.select().where(Message.call_sid == call.sid).count() == 1, attempt
        else:
            assert pressed == ["mis_entry"] and record.call_state().misses == {"main": 1}, attempt
