"""Bulk SMS guard-rails (issue 15): one word per thing, parts and cost, warnings for late sends, advice on the
text, 「自分にテスト送信」, the confirm page showing one recipient's message as sent, and 差し込み from CSV columns."""
from __future__ import annotations

import io
import re

import pytest

from core.models import AuditLog
from sms.bulk import guards, merge, runner
from sms.bulk.models import BulkRecipient, BulkSend
from sms.models import Message
from tests.bulk.conftest import e164, numbers
from tests.bulk.test_views import make_draft, text_of

# 𠮷 (U+20BB7) is not in JIS X 0208: an SMS (ISO-2022-JP) cannot carry it.
NAMES_CSV = ("氏名,電話番号,店舗\r\n山田,090-1234-5678,新宿店\r\n𠮷田,080-2222-3333,渋谷店\r\n"
             "佐藤,070-3333-4444,池袋店\r\n")


def upload_names(client) -> BulkSend:
    response = client.post("/bulk/new", data={"source": "csv", "csv_file": (io.BytesIO(NAMES_CSV.encode("utf-8")),
                                                                             "names.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    return BulkSend.select().order_by(BulkSend.id.desc()).get()


# --- pure parts -----------------------------------------------------------------------------------------------------
def test_merge_fields_are_filled_and_unknown_ones_named():
    assert merge.fill("{氏名}様（{店舗}）{optout_url}", ["氏名", "店舗"], ["山田", "新宿店"]) == "山田様（新宿店）{optout_url}"
    reserved = ("{url}", "{optout_url}")
    assert merge.unknown_fields("{指名}様 {url} {氏名}", ["氏名"], reserved) == ["{指名}"]
    assert merge.uses_fields(["こんにちは {氏名}様"], ["氏名"]) and not merge.uses_fields(["{url}"], ["氏名"])


@pytest.mark.parametrize(("moment", "count"), [("2026-01-05 23:30", 2), ("2026-01-05 20:30", 0),
                                                 ("2026-01-05 07:30", 2), ("2026-01-05 08:30", 1)])
def test_late_and_no_resend_hours_are_warned_about(moment, count):
    import datetime as dt

    window = (dt.time(21, 0), dt.time(9, 0))
    assert len(guards.timing_warnings(dt.datetime.fromisoformat(moment), window)) == count


def test_advice_names_a_missing_company_name_and_opt_out():
    assert len(guards.text_advice(["お知らせ"], "", "{optout_url}")) == 2
    advice = guards.text_advice(["お知らせ {optout_url}"], "ABC商店", "{optout_url}")
    assert advice == ["本文に会社名「ABC商店」がありません。誰からの SMS か分かるよう、会社名を入れることをおすすめします。"]
    assert guards.text_advice(["ABC商店です {optout_url}"], "ABC商店", "{optout_url}") == []
    assert guards.estimated_cost(7, 3.3) == 24 and guards.estimated_cost(7, 0) is None


# --- confirm page ---------------------------------------------------------------------------------------------------
def test_confirm_page_counts_parts_and_cost_and_shows_a_message_as_sent(manager_client, clock):
    send = make_draft(manager_client, count=3)
    long_text = "あ" * 140 + " 停止は {optout_url}"  # 3 parts (67 characters a part) once the URL is in
    page = text_of(manager_client.post(f"/bulk/{send.id}/messages", data={"message": [long_text, "二通目"],
                                                                         "box": ["", ""]}))
    assert re.search(r'id="message-total">6</span> 件', page)
    parts = int(re.search(r'id="part-total">([\d,]+)</span> 通', page).group(1))
    assert parts == 3 * 3 + 3 * 1
    assert f'id="estimated-cost">{parts * 10:,}</span> 円' in page
    sample = re.search(r'<pre class="sms-text sms-sample" data-sample="1">(.*?)</pre>', page, re.DOTALL).group(1)
    assert "{optout_url}" not in sample and re.search(r"/optout/[\w-]{22}$", sample)
    assert "090-1000-0000 に届く内容" in page
    assert "配信先一覧（3 名）" in page and "メッセージ（2 件）" in page


def test_a_late_send_is_warned_and_a_text_without_sender_or_opt_out_advised(manager_client, app, clock):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.company_name": "ABC商店"})
    send = make_draft(manager_client)
    page = text_of(manager_client.post(f"/bulk/{send.id}/messages", data={
        "message": ["セールのお知らせです"], "box": [""], "schedule": "1", "scheduled_at": "2026-01-05T23:30"}))
    assert "配信時刻 23:30 は夜間・早朝（21:00〜8:00）です" in page
    assert "配信時刻 23:30 は再送しない時間帯（21:00〜09:00）です" in page
    assert "本文に会社名「ABC商店」がありません" in page and "本文に配信停止 URL（{optout_url}）がありません" in page
    calm = text_of(manager_client.post(f"/bulk/{send.id}/messages", data={
        "message": ["ABC商店です。停止は {optout_url}"], "box": [""], "schedule": "1",
        "scheduled_at": "2026-01-05T14:00"}))
    assert 'id="confirm-guards"' not in calm


def test_test_to_me_sends_the_messages_to_my_number_through_the_outbox(manager_client, clock):
    send = make_draft(manager_client, count=2)
    form = {"message": ["一通目です", "二通目です"], "box": ["", ""]}
    refused = manager_client.post(f"/bulk/{send.id}/test", data={**form, "test_number": "03-1234-5678"})
    assert refused.status_code == 400 and "固定電話の番号には SMS を送信できません" in text_of(refused)
    response = manager_client.post(f"/bulk/{send.id}/test", data={**form, "test_number": "090-9999-0001"})
    page = text_of(response)
    assert response.status_code == 200 and "090-9999-0001 宛にテスト送信しました（2 件）" in page
    assert "⇒配信する" in page  # the confirm screen comes back, nothing is sent to the recipients
    sent = list(Message.select().where(Message.to_number == "+819099990001").order_by(Message.id))
    assert [m.body for m in sent] == ["一通目です", "二通目です"]
    assert all(m.source == "ui" and m.bulk_send_id is None and m.created_by.startswith("manager") for m in sent)
    assert BulkSend.get_by_id(send.id).status == "draft" and not Message.select().where(
        Message.to_number.in_([e164(n) for n in numbers(2)])).exists()
    assert 'value="090-9999-0001"' in text_of(manager_client.post(f"/bulk/{send.id}/messages", data=form))
    assert AuditLog.select().where(AuditLog.action == "bulk.test_sent").count() == 1


# --- 差し込み -------------------------------------------------------------------------------------------------------
def test_merge_fields_from_csv_columns_with_a_row_refused_alone(manager_client, clock):
    send = upload_names(manager_client)
    assert send.merge_fields == ["氏名", "店舗"]
    messages = text_of(manager_client.get(f"/bulk/{send.id}/messages"))
    assert "{氏名}" in messages and "{店舗}" in messages

    typo = manager_client.post(f"/bulk/{send.id}/messages", data={"message": ["{指名}様"], "box": [""]})
    assert typo.status_code == 400 and "「{指名}」 は差し込みに使えません（使える項目: {氏名}、{店舗}）" in text_of(typo)

    form = {"message": ["{氏名}様、{店舗}からのお知らせです。"], "box": [""]}
    page = text_of(manager_client.post(f"/bulk/{send.id}/messages", data=form))
    assert "送信できない配信先（1 名）" in page
    refusals = re.search(r'<table class="list" id="merge-refusals">(.*?)</table>', page, re.DOTALL).group(1)
    assert "080-2222-3333" in refusals and "「𠮷」" in refusals and "090-1234-5678" not in refusals
    assert ">山田様、新宿店からのお知らせです。</pre>" in page
    assert re.search(r'id="message-total">2</span> 件', page)

    done = manager_client.post(f"/bulk/{send.id}/confirm", data={**form, "go": "1"})
    assert done.status_code == 302
    refused = BulkRecipient.get((BulkRecipient.bulk_send == send.id) & (BulkRecipient.to_number == "+818022223333"))
    assert refused.state1 == "error" and "ISO-2022-JP" in refused.problem
    assert BulkSend.get_by_id(send.id).slot_count == 2
    runner.poll()
    bodies = {m.to_number: m.body for m in Message.select().where(Message.bulk_send_id == send.id)}
    assert bodies == {"+819012345678": "山田様、新宿店からのお知らせです。", "+817033334444": "佐藤様、池袋店からのお知らせです。"}
    detail = text_of(manager_client.get(f"/bulk/{send.id}"))
    assert "送信できない内容" in detail and "「𠮷」" in detail


def test_merge_fields_are_unknown_without_a_titled_csv(manager_client):
    send = make_draft(manager_client)
    response = manager_client.post(f"/bulk/{send.id}/messages", data={"message": ["{氏名}様"], "box": [""]})
    assert response.status_code == 400 and "見出しのある CSV ファイルで配信先を指定したとき" in text_of(response)


# --- detail page, polled ----------------------------------------------------------------------------------------
def test_the_polled_detail_follows_the_send_state(manager_client, make_send, clock):
    send = make_send(numbers(2), scheduled="2026-01-05T11:00")
    before = manager_client.get(f"/bulk/{send.id}/progress").get_json()
    assert "配信を取り消す" in before["actions_html"] and before["rows_html"].count("送信待ち") == 2
    clock.set("2026-01-05 11:00")
    runner.poll()
    during = manager_client.get(f"/bulk/{send.id}/progress").get_json()
    assert during["status"] == "completed" and during["status_label"] == "配信中"  # still in the outbox
    assert history_badge(manager_client, send.id) == "配信中"  # the history list says what the detail page says
    assert "配信を取り消す" not in during["actions_html"] and "編集" not in during["actions_html"]
    Message.update(state="sending").where(Message.bulk_send_id == send.id).execute()
    after = manager_client.get(f"/bulk/{send.id}/progress").get_json()
    assert after["status_label"] == "配信完了" and "送信待ち" not in after["rows_html"]
    assert history_badge(manager_client, send.id) == "配信完了"


def history_badge(client, send_id: int) -> str:
    page = client.get("/bulk/").get_data(as_text=True)
    row = re.search(rf"<td>{send_id}</td>.*?</tr>", page, re.S).group(0)
    return re.search(r'<span class="badge[^"]*">([^<]+)</span>', row).group(1)
