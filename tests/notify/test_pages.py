"""通知先 and 通知の送信履歴 pages: staff add, change, test, resume and delete (with a confirmation) destinations;
only managers and admins read the log (it names callers); bad input is refused in Japanese, input kept."""
from __future__ import annotations

from core import events
from core.models import AuditLog
from notify.models import Delivery, Destination, Event
from notify.outbox import run_deliveries

FORM = {"name": "コールセンター Slack", "kind": "slack", "target": "https://hooks.slack.com/services/T/B/X",
        "events": [events.VOICEMAIL_LEFT, events.CALL_ABANDONED], "quiet_start": "21:00", "quiet_end": "08:00"}


def test_staff_add_a_destination_and_see_it_listed(staff_client):
    response = staff_client.post("/notify/new", data=FORM)
    assert response.status_code == 302
    [destination] = Destination.select()
    assert (destination.kind, destination.event_kinds(), destination.quiet_start, destination.quiet_end) == (
        "slack", [events.VOICEMAIL_LEFT, events.CALL_ABANDONED], "21:00", "08:00")
    page = staff_client.get("/notify/").get_data(as_text=True)
    assert "コールセンター Slack" in page and "留守番電話の録音" in page and "21:00〜08:00" in page
    assert 'data-confirm="通知先「コールセンター Slack」を削除しますか？' in page  # asked before deleting
    assert AuditLog.get(AuditLog.action == "notify.destination.created").target == "コールセンター Slack"


def test_bad_input_is_refused_in_japanese_and_kept(staff_client):
    bad = {**FORM, "target": "hooks.slack.com/x", "events": [], "quiet_start": "25:00", "quiet_end": ""}
    response = staff_client.post("/notify/new", data=bad)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "送信先 URLは http:// または https:// で始まる URL を入力してください。" in page
    assert "通知するできごとを 1 つ以上選んでください。" in page
    assert "HH:MM" in page and "開始と終了の両方" in page
    assert 'value="hooks.slack.com/x"' in page
    assert Destination.select().count() == 0


def test_a_signed_webhook_gets_a_signing_key_and_keeps_it_when_left_empty(staff_client):
    staff_client.post("/notify/new", data={**FORM, "kind": "webhook", "target": "https://crm.example.jp/hook"})
    destination = Destination.get()
    assert len(destination.secret) >= 32
    page = staff_client.get(f"/notify/{destination.id}").get_data(as_text=True)
    assert destination.secret in page  # shown (folded) to set up the receiver
    staff_client.post(f"/notify/{destination.id}", data={**FORM, "kind": "webhook", "name": "CRM",
                                                         "target": "https://crm.example.jp/hook", "secret": ""})
    assert Destination.get().secret == destination.secret and Destination.get().name == "CRM"


def test_chatwork_needs_its_token_and_email_checks_addresses(staff_client):
    page = staff_client.post("/notify/new", data={**FORM, "kind": "chatwork"}).get_data(as_text=True)
    assert "Chatwork の API トークンを入力してください。" in page
    page = staff_client.post("/notify/new", data={**FORM, "kind": "email", "target": "desk@example.jp, boss"}
                             ).get_data(as_text=True)
    assert "宛先メールアドレスの形式が正しくありません: boss" in page


def test_the_test_button_queues_a_test_the_worker_sends(staff_client, make_destination):
    destination = make_destination("slack", "http://127.0.0.1:9/unreachable")
    assert staff_client.post(f"/notify/{destination.id}/test").status_code == 302
    [delivery] = Delivery.select()
    assert delivery.test and delivery.event.kind == "test"
    run_deliveries()
    delivery = Delivery.get()
    assert delivery.state == "failed" and delivery.attempts == 1  # a test is tried once and reported
    page = staff_client.get(f"/notify/{destination.id}").get_data(as_text=True)
    assert "テスト通知" in page and "送信失敗" in page and "接続できませんでした" in page
    assert Destination.get().consecutive_failures == 0  # a test does not count towards pausing


def test_a_paused_destination_is_shown_as_such_and_resumed(staff_client, make_destination, clock):
    destination = make_destination("slack", "http://127.0.0.1:9/", paused_at=clock.now(),
                                   pause_reason="10 回続けて送信に失敗したため停止しました（応答 500）")
    page = staff_client.get("/notify/").get_data(as_text=True)
    assert "停止中" in page and "10 回続けて送信に失敗したため停止しました" in page and "再開" in page
    staff_client.post(f"/notify/{destination.id}/resume")
    assert Destination.get().paused_at is None
    assert "停止中" not in staff_client.get("/notify/").get_data(as_text=True)


def test_deleting_a_destination_takes_its_deliveries(staff_client, make_destination):
    destination = make_destination("slack")
    events.announce(events.VOICEMAIL_LEFT, {"from_number": "+819012345678"})
    assert staff_client.post(f"/notify/{destination.id}/delete").status_code == 302
    assert Destination.select().count() == 0 and Delivery.select().count() == 0
    assert AuditLog.get(AuditLog.action == "notify.destination.deleted").target == destination.name


def test_the_log_is_for_managers_and_offers_a_resend(staff_client, manager_client, make_destination):
    destination = make_destination("slack", "http://127.0.0.1:9/")
    events.announce(events.VOICEMAIL_LEFT, {"from_number": "+819012345678", "seconds": 5})
    Delivery.update(state="unknown", attempts=1, last_error="結果不明").execute()
    assert staff_client.get("/notify/log").status_code == 403
    page = manager_client.get("/notify/log").get_data(as_text=True)
    assert "090-1234-5678 から留守番電話が届きました" in page and "結果不明" in page and "+8190" not in page
    assert 'data-confirm="この通知をもう一度送りますか？"' in page
    delivery = Delivery.get()
    assert staff_client.post(f"/notify/log/{delivery.id}/resend").status_code == 403
    manager_client.post(f"/notify/log/{delivery.id}/resend")
    assert (Delivery.get().state, Delivery.get().attempts) == ("pending", 0)
    assert Event.select().count() == 1 and destination.name in manager_client.get("/notify/log").get_data(as_text=True)


def test_the_openapi_document_describes_the_signed_webhook(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = document["components"]["schemas"]["NotificationWebhook"]
    assert "HMAC-SHA256" in schema["description"] and "delivery_id" in schema["required"]
    headers = {p["name"] for p in document["x-webhooks"]["notification"]["post"]["parameters"]}
    assert headers == {"X-IVR-Signature", "X-IVR-Timestamp", "X-IVR-Delivery", "X-IVR-Event"}


def test_the_delivery_log_goes_after_the_retention_period(app, make_destination, clock):
    from core.retention import purge_expired

    make_destination("slack")
    events.announce(events.VOICEMAIL_LEFT, {"from_number": "+819012345678"})
    clock.advance(days=91)
    events.announce(events.VOICEMAIL_LEFT, {"from_number": "+819012345679"})
    assert purge_expired()["notify.deliveries"] == 1  # the old event, its delivery with it
    assert Event.select().count() == 1 and Delivery.select().count() == 1
