"""When tickets are in use every SMS takes one (R-42): bulk, API and IVR alike; an IVR send with no ticket left
takes the SMS node's "cannot send" branch and is logged as failed (3) "チケット不足"."""
from __future__ import annotations

from guidance.public import playlist
from sms import tickets
from sms.models import Message
from tests.ivr import conftest as ivr

# The IVR tests' fixtures: real guidance (Open JTalk audio, made once a session), storage box 1, a saved flow, a phone.
FLOW_NUMBER = ivr.FLOW_NUMBER
app_config, shared_audio_dir, guidance, box = ivr.app_config, ivr.shared_audio_dir, ivr.guidance, ivr.box
save_flow, menu_flow_saved, phone = ivr.save_flow, ivr.menu_flow_saved, ivr.phone

def urls(guidance_id):
    return [item.url for item in playlist(guidance_id)]


def test_ivr_sms_uses_a_ticket_and_with_none_left_takes_the_cannot_send_branch(tickets_on, phone, menu_flow_saved,
                                                                                 guidance):
    tickets.add(1, reason="購入", actor="admin1")
    first = phone.dial(FLOW_NUMBER, caller="+819012345678")
    first.press("1")
    assert first.plays() == urls(guidance["sent"]) and first.hung_up
    assert tickets.balance() == 0

    second = phone.dial(FLOW_NUMBER, caller="+818011112222")
    second.press("1")
    assert second.plays() == urls(guidance["ng"]) + urls(guidance["closing"]) and second.hung_up
    logged = Message.get(Message.call_sid == second.sid)
    assert (logged.to_number, logged.status, logged.state, logged.error_message) == (
        "+818011112222", 3, "failed", "チケット不足")
    assert [entry.delta for entry in tickets.entries()] == [-1, 1]


def test_api_send_uses_a_ticket_and_is_refused_without_one(tickets_on, client):
    from core.security import issue_api_token

    _, raw = issue_api_token("tickets")
    headers = {"Authorization": f"Bearer {raw}"}
    tickets.add(1, reason="購入", actor="admin1")
    sent = client.post("/api/v1/messages", json={"to": "090-1234-5678", "text": "API から"}, headers=headers,
                       csrf=False)
    assert sent.status_code == 201 and tickets.balance() == 0
    refused = client.post("/api/v1/messages", json={"to": "090-1234-5679", "text": "API から"}, headers=headers,
                          csrf=False)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "no_ticket"
    assert "チケットが不足" in refused.get_json()["error"]["message"]
