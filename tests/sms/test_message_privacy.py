"""Recipients' numbers, SMS texts and personal opt-out URLs follow the delivery log's rule (R-30: managers) on every
page that shows them; staff see only what they sent themselves (a box's test send). Pages with other personal
data keep their roles."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from sms.models import Message
from sms.sending import queue_box

OTHER_NUMBER = "090-5555-7777"  # not the test-send field's placeholder


@pytest.fixture
def sent(box, staff_client):
    """An API send to a customer (with a personal opt-out URL) and the staff member's own test send."""
    from sms.models import StorageBox

    StorageBox.update(body="ご予約ありがとうございます。{url} 停止: {optout_url}").where(StorageBox.id == box.id).execute()
    from sms.outbox import run_dispatch

    other = Message.get_by_id(queue_box(7, OTHER_NUMBER, source="api", created_by="api:crm").message_id)
    response = staff_client.post("/sms/boxes/7/test", data={"to": "080-1111-2222"})
    assert response.status_code == 302
    run_dispatch()  # the simulator "sends" it: the outbox lists what the simulator sent
    own = Message.get(Message.to_number == "+818011112222")
    assert own.created_by == "staff1" and own.source == "ui"
    return {"other": other, "own": own}


def optout_url(message: Message) -> str:
    return re.search(r"http://localhost/optout/[\w-]+", message.body).group(0)


def test_managers_and_admins_read_any_message_with_its_number_text_and_optout_url(sent, manager_client,
                                                                                  admin_client):
    for client in (manager_client, admin_client):
        page = client.get(f"/sms/messages/{sent['other'].id}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert OTHER_NUMBER in html and optout_url(sent["other"]) in html and "ご予約ありがとうございます" in html


def test_staff_cannot_read_a_customers_message_by_its_id(sent, staff_client):
    page = staff_client.get(f"/sms/messages/{sent['other'].id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and "この SMS は見つかりません。" in html
    assert OTHER_NUMBER not in html and optout_url(sent["other"]) not in html
    assert staff_client.get(f"/sms/messages/{sent['own'].id}").status_code == 200  # their own test send


def test_the_outbox_shows_staff_only_their_own_sends(sent, staff_client, manager_client):
    staff_view = staff_client.get("/sms/outbox").get_data(as_text=True)
    assert "080-1111-2222" in staff_view
    assert OTHER_NUMBER not in staff_view and optout_url(sent["other"]) not in staff_view
    manager_view = manager_client.get("/sms/outbox").get_data(as_text=True)
    assert "080-1111-2222" in manager_view and OTHER_NUMBER in manager_view


def test_a_boxs_recent_sends_follow_the_same_rule(sent, staff_client, manager_client):
    staff_view = staff_client.get("/sms/boxes/7").get_data(as_text=True)
    assert "080-1111-2222" in staff_view and OTHER_NUMBER not in staff_view
    assert f"/sms/messages/{sent['other'].id}\"" not in staff_view
    assert OTHER_NUMBER in manager_client.get("/sms/boxes/7").get_data(as_text=True)


def test_a_staff_member_named_like_a_source_still_sees_only_their_own(box, app, make_user):
    """created_by is "ivr" for IVR sends: the rule also asks for the page as the source."""
    from tests.conftest import PASSWORD

    queue_box(7, OTHER_NUMBER, source="ivr", created_by="ivr")
    make_user(username="ivr", role="staff")
    client = app.test_client()
    assert client.login("ivr", PASSWORD).status_code == 302
    assert OTHER_NUMBER not in client.get("/sms/outbox").get_data(as_text=True)


def test_the_simulator_shows_only_simulated_calls(app, staff_client, manager_client):
    from ivr.models import Call

    now = dt.datetime(2026, 1, 5, 10, 0)
    real = Call.create(call_sid="CA" + "1" * 32, from_number="+819012345678", to_number="+815000000000",
                       started_at=now)
    for client in (staff_client, manager_client):
        answer = client.get(f"/ivr/simulator/calls/{real.call_sid}")
        assert answer.status_code == 404 and answer.json["error"]["message"] == "通話が見つかりません。"
    Call.update(simulated=True).where(Call.id == real.id).execute()
    assert staff_client.get(f"/ivr/simulator/calls/{real.call_sid}").status_code == 200


@pytest.mark.parametrize("path, allowed", [
    ("/sms/log", "manager"), ("/sms/log.csv", "manager"), ("/sms/optouts", "manager"), ("/bulk/", "manager"),
    ("/reports/calls", "manager"), ("/reports/calls.csv", "manager"), ("/admin/audit", "admin"),
    ("/ivr/voicemails", "staff"), ("/ivr/callers", "staff"),
])
def test_pages_with_personal_data_keep_their_roles(app, make_user, path, allowed):
    from tests.conftest import PASSWORD

    order = ["staff", "manager", "admin"]
    for role in order:
        make_user(username=f"{role}-p", role=role)
        client = app.test_client()
        assert client.login(f"{role}-p", PASSWORD).status_code == 302
        expected = 200 if order.index(role) >= order.index(allowed) else 403
        assert client.get(path).status_code == expected, (path, role)
