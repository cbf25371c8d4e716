"""個別送信 (seed 002): from a failed row of the log, a bulk send's results or a message's page, a form prefilled with
the number and the box (or the text); and a free-text send to one number. Same validation, opt-out, tickets and
audit as any send; it reaches the Twilio server once (the local Twilio-compatible server's log is the proof)."""
import re

import pytest

from core.models import AuditLog
from sms import links, tickets
from sms.models import Message
from sms.outbox import run_dispatch
from sms.sending import queue_box
from tests.sms.conftest import post_callback, twilio_config

TO = "+819012345678"


def token_of(page: str) -> str:
    return re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)


class TestThroughTwilio:
    @pytest.fixture
    def app_config(self, app_config, twilio_server):
        return twilio_config(app_config, twilio_server)

    def failed_message(self, client, twilio_server) -> Message:
        message_id = queue_box(7, "090-1234-5678", source="ivr").message_id
        run_dispatch()
        post_callback(client, twilio_server, Message.get_by_id(message_id).provider_sid, "undelivered", 30005)
        message = Message.get_by_id(message_id)
        assert message.status == 3
        return message

    def test_a_failed_row_is_sent_individually_once(self, app, manager_client, twilio_server, box):
        failed = self.failed_message(manager_client, twilio_server)
        log = manager_client.get("/sms/log").get_data(as_text=True)
        assert f'href="/sms/send?message={failed.id}"' in log
        form = manager_client.get(f"/sms/send?message={failed.id}").get_data(as_text=True)
        assert 'value="090-1234-5678"' in form and '<option value="7" data-body=' in form
        assert 'value="7" data-body="ご予約ありがとうございます。詳細: {url}" data-url="https://example.jp/reserve" selected' in form
        data = {"to": "090-1234-5678", "box": "7", "body": "", "url": "", "token": token_of(form),
                "from_message": str(failed.id)}
        response = manager_client.post("/sms/send", data=data)
        assert response.status_code == 302
        assert len(twilio_server.sent_to(TO)) == 2  # the failed send, then the individual one
        again = manager_client.post("/sms/send", data=data)  # a double click sends nothing more
        assert again.status_code == 302 and len(twilio_server.sent_to(TO)) == 2
        resent = Message.select().where(Message.id != failed.id).get()
        assert response.headers["Location"].endswith(f"/sms/messages/{resent.id}")
        assert twilio_server.sent_to(TO)[-1].sid == resent.provider_sid
        assert (resent.box_number, resent.source, resent.created_by, resent.state) == (7, "ui", "manager1", "sending")
        assert resent.body.startswith("ご予約ありがとうございます。詳細: http://localhost/s/")
        entry = AuditLog.get(AuditLog.action == "sms.individual_sent")
        assert entry.target == TO and f'"from_message_id": {failed.id}' in entry.detail
        page = manager_client.get(f"/sms/messages/{resent.id}").get_data(as_text=True)
        assert "090-1234-5678 宛に個別送信しました（状態: 配信中）。" in page


def test_free_text_to_one_number(app, manager_client):
    form = manager_client.get("/sms/send").get_data(as_text=True)
    response = manager_client.post("/sms/send", data={"to": "080-1111-2222", "box": "", "body": "本日の受付は終了しました。",
                                                      "url": "https://example.jp/next", "token": token_of(form)})
    assert response.status_code == 302
    message = Message.get()
    assert message.body.startswith("本日の受付は終了しました。\nhttp://localhost/s/")
    assert (message.to_number, message.provider, message.state) == ("+818011112222", "simulator", "sending")


@pytest.mark.parametrize("fields, words", [
    ({"to": "03-1234-5678", "body": "お知らせ"}, "携帯電話番号"),
    ({"to": "090-1234-5678", "body": "髙橋様"}, "「髙」(U+9AD9)"),
    ({"to": "090-1234-5678", "body": "詳細 {url}"}, "本文に {url} がありますが、URLが設定されていないため使えません。"),
    ({"to": "090-1234-5678", "body": "お知らせ", "url": "javascript:alert(1)"}, "URL は http:// または https://"),
    ({"to": "090-1234-5678", "box": "99", "body": ""}, "蓄積BOX 99 は登録されていません。"),
    ({"to": "090-1234-5678", "box": "x", "body": ""}, "蓄積BOX番号"),
])
def test_bad_input_is_refused_in_japanese_and_kept(manager_client, fields, words):
    response = manager_client.post("/sms/send", data={"box": "", "url": "", **fields})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and words in page
    assert f'value="{fields["to"]}"' in page
    assert not Message.select().where(Message.state != "failed").exists()


def test_opted_out_numbers_and_tickets_apply(app, manager_client):
    links.opt_out("+819012345678", via="admin")
    refused = manager_client.post("/sms/send", data={"to": "090-1234-5678", "box": "", "body": "お知らせ", "url": ""})
    assert refused.status_code == 400 and "配信停止の申し出があった番号のため" in refused.get_data(as_text=True)
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.tickets_enabled": True})
    tickets.add(1, reason="テスト", actor="admin")
    assert manager_client.post("/sms/send", data={"to": "090-1111-2222", "body": "1通目"}).status_code == 302
    short = manager_client.post("/sms/send", data={"to": "090-1111-3333", "body": "2通目"})
    assert short.status_code == 400 and "チケットが不足しているため" in short.get_data(as_text=True)
    assert tickets.balance() == 0


def test_the_message_page_offers_it_and_staff_may_not_send(app, manager_client, staff_client, box):
    message_id = queue_box(7, "090-1234-5678", source="ivr").message_id
    page = manager_client.get(f"/sms/messages/{message_id}").get_data(as_text=True)
    assert f'href="/sms/send?message={message_id}"' in page and "この番号に個別送信" in page
    assert staff_client.get(f"/sms/send?message={message_id}").status_code == 403
    assert staff_client.post("/sms/send", data={"to": "090-1234-5678", "body": "x"}).status_code == 403


def test_a_free_text_message_prefills_its_text(manager_client):
    from sms.sending import queue_text

    message_id = queue_text("自由文のお知らせ", "070-1234-5678", source="api").message_id
    page = manager_client.get(f"/sms/send?message={message_id}").get_data(as_text=True)
    assert 'value="070-1234-5678"' in page and ">自由文のお知らせ</textarea>" in page
    assert manager_client.get("/sms/send?message=99999999999999999999").status_code == 200


def test_a_bulk_sends_failed_number_links_to_an_individual_send(app, manager_client, clock):
    from sms.bulk import runner, sends
    from sms.bulk.recipients import parse_pasted

    found = sends.build_recipients(parse_pasted("090-9999-0005\n090-1234-5601"))
    draft = sends.create_draft(found, source="paste", actor="manager1")
    form, errors = sends.read_message_form(["年始のお知らせ"], [None], schedule=False)
    assert errors == []
    send = sends.confirm(draft.id, form, "manager1")
    runner.poll()
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()  # the simulator's receipts: 090-9999-0005 is 現在使われていない番号
    failed = Message.get((Message.bulk_send_id == send.id) & (Message.to_number == "+819099990005"))
    assert failed.status == 3
    page = manager_client.get(f"/bulk/{send.id}").get_data(as_text=True)
    assert page.count('class="resend-one"') == 1 and f'href="/sms/send?message={failed.id}"' in page
    form_page = manager_client.get(f"/sms/send?message={failed.id}").get_data(as_text=True)
    assert 'value="090-9999-0005"' in form_page and ">年始のお知らせ</textarea>" in form_page
