"""The bulk pages in the seed's order: recipients (CSV / paste / callers) → messages → confirm → detail."""
from __future__ import annotations

import datetime as dt
import html
import io
import re

from sms import tickets
from sms.bulk import runner
from sms.bulk.models import BulkRecipient, BulkSend
from tests.bulk.conftest import numbers

SJIS_CSV = "氏名,電話番号\r\n山田,090-1234-5678\r\n鈴木,080-2222-3333\r\n佐藤,03-1234-5678\r\n山田（重複）,09012345678\r\n"


def upload(client, data: bytes, name="list.csv", **fields):
    return client.post("/bulk/new", data={"source": "csv", "csv_file": (io.BytesIO(data), name), **fields},
                       content_type="multipart/form-data")


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_pages_need_a_manager(staff_client, manager_client):
    assert staff_client.get("/bulk/").status_code == 403
    assert staff_client.get("/bulk/new").status_code == 403
    page = text_of(manager_client.get("/bulk/"))
    assert "SMSメッセージ作成（一括配信）" in page
    assert 'href="/bulk/"' in page and 'href="/bulk/tickets"' in page  # both menu items


def test_shift_jis_csv_with_header_becomes_a_draft(manager_client):
    response = upload(manager_client, SJIS_CSV.encode("cp932"))
    assert response.status_code == 302 and re.search(r"/bulk/\d+/messages$", response.headers["Location"])
    send = BulkSend.get()
    assert (send.recipient_count, send.duplicate_count, send.invalid_count) == (2, 1, 1)
    assert send.source_detail == "list.csv（Shift_JIS（Excel 向け）、2 列目「電話番号」）"
    page = text_of(manager_client.get(response.headers["Location"]))
    assert "配信先 2 名、重複 1 件、携帯電話番号ではない 1 件。" in page
    skipped = text_of(manager_client.get(f"/bulk/{send.id}/skipped"))
    assert "固定電話" in skipped and "山田" not in skipped


def test_utf8_bom_csv(manager_client):
    data = "\ufeff携帯番号,名前\n09011112222,佐藤\n07033334444,田中\n".encode("utf-8")
    assert upload(manager_client, data).status_code == 302
    send = BulkSend.get()
    assert send.recipient_count == 2 and "UTF-8 (BOM 付き)" in send.source_detail


def test_broken_rows_are_listed_by_line_and_the_rest_kept(manager_client):
    data = '電話番号,名前\n09011110001,A\n"09011110002,B\n09011110003,C\n'.encode()
    assert upload(manager_client, data).status_code == 302
    send = BulkSend.get()
    assert send.recipient_count == 2 and send.broken_count == 1
    page = text_of(manager_client.get(f"/bulk/{send.id}/skipped?kind=broken"))
    assert re.search(r'<td class="num">3</td><td>"09011110002,B</td><td>読み取れない行</td><td>引用符', page)


def test_csv_without_a_phone_title_asks_for_the_column_and_keeps_the_file(manager_client):
    data = "名前,連絡先\n山田,090-1234-5678\n".encode()
    response = upload(manager_client, data, name="renraku.csv")
    page = text_of(response)
    assert response.status_code == 400
    assert "電話番号の列が見つかりません。電話番号の列を選んでください。" in page
    assert '<option value="2">2 列目: 連絡先</option>' in page
    token = re.search(r'name="upload_token" value="([0-9a-f]+)"', page).group(1)
    again = manager_client.post("/bulk/new", data={"source": "csv", "column": "2", "upload_token": token,
                                                   "upload_name": "renraku.csv"})
    assert again.status_code == 302
    assert BulkSend.get().source_detail.startswith("renraku.csv")


def test_pasted_numbers_and_the_empty_cases(manager_client):
    response = manager_client.post("/bulk/new", data={"source": "paste", "pasted": ""})
    assert response.status_code == 400 and "電話番号を貼り付けてください" in text_of(response)
    response = manager_client.post("/bulk/new", data={"source": "paste", "pasted": "0312345678\n05012345678"})
    page = text_of(response)
    assert response.status_code == 400 and "配信できる電話番号がありません" in page
    assert "0312345678\n05012345678</textarea>" in page  # the input is kept
    response = manager_client.post("/bulk/new", data={"source": "csv"})
    assert response.status_code == 400 and "CSV ファイルを選んでください。" in text_of(response)


def make_draft(client, count=3) -> BulkSend:
    response = client.post("/bulk/new", data={"source": "paste", "pasted": "\n".join(numbers(count))})
    assert response.status_code == 302
    return BulkSend.select().order_by(BulkSend.id.desc()).get()


def test_message_errors_keep_the_input(manager_client):
    send = make_draft(manager_client)
    response = manager_client.post(f"/bulk/{send.id}/messages", data={"message": ["髙橋です", "二通目"], "box": ["", ""],
                                                                     "schedule": "1", "scheduled_at": "2020-01-01T10:00"})
    page = text_of(response)
    assert response.status_code == 400
    assert "メッセージ1: ISO-2022-JP（JIS）で送信できない文字が含まれています: 「髙」(U+9AD9)" in page
    assert "は過去の時刻です" in page
    assert ">髙橋です</textarea>" in page and ">二通目</textarea>" in page
    assert 'value="2020-01-01T10:00"' in page


def test_confirm_screen_then_immediate_send(manager_client, clock):
    send = make_draft(manager_client)
    response = manager_client.post(f"/bulk/{send.id}/messages",
                                   data={"message": ["一通目です", "二通目です"], "box": ["", ""]})
    page = text_of(response)
    assert response.status_code == 200 and "メッセージの作成確認" in page
    assert "即時配信" in page and "⇒配信する" in page and "090-1000-0002" in page
    assert BulkSend.get_by_id(send.id).status == "draft"  # nothing is sent before the confirm button

    back = manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["一通目です", "二通目です"],
                                                                "box": ["", ""], "back": "1"})
    assert ">二通目です</textarea>" in text_of(back)

    done = manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["一通目です", "二通目です"],
                                                                "box": ["", ""], "go": "1"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/bulk/{send.id}")
    send = BulkSend.get_by_id(send.id)
    assert send.status == "scheduled" and send.immediate and send.messages == ["一通目です", "二通目です"]
    runner.poll()
    progress = manager_client.get(f"/bulk/{send.id}/progress").get_json()
    assert progress["status"] == "completed"
    assert progress["progress"]["total"] == 6 and progress["progress"]["remaining"] == 6  # in the outbox, not sent yet
    detail = text_of(manager_client.get(f"/bulk/{send.id}"))
    assert "配信履歴詳細" in detail and detail.count("送信待ち") == 6


def test_scheduling_shows_the_time_and_is_refused_when_tickets_are_short(manager_client, tickets_on, clock):
    tickets.add(5, reason="購入", actor="admin1")
    send = make_draft(manager_client, count=3)
    refused = manager_client.post(f"/bulk/{send.id}/messages", data={"message": ["一", "二"], "box": ["", ""],
                                                                    "schedule": "1", "scheduled_at": "2026-01-05T18:30"})
    assert refused.status_code == 400
    assert "チケットが不足しているため配信できません（必要 6 枚、残り 5 枚）" in text_of(refused)
    page = text_of(manager_client.post(f"/bulk/{send.id}/messages", data={
        "message": ["一"], "box": [""], "schedule": "1", "scheduled_at": "2026-01-05T18:30"}))
    assert "2026-01-05 18:30 に配信予約" in page and "⇒配信を予約する" in page and "使用チケット <strong>3</strong> 枚" in page
    tickets.consume(4, reason="他の送信")  # tickets went while the confirm screen was open
    late = manager_client.post(f"/bulk/{send.id}/confirm", data={
        "message": ["一"], "box": [""], "schedule": "1", "scheduled_at": "2026-01-05T18:30"})
    assert late.status_code == 400 and "必要 3 枚、残り 1 枚" in text_of(late)
    assert BulkSend.get_by_id(send.id).status == "draft"


def test_cancel_and_edit_of_a_scheduled_send(manager_client, clock):
    send = make_draft(manager_client)
    manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["本文"], "box": [""], "schedule": "1",
                                                          "scheduled_at": "2026-01-05T18:30"})
    edit = text_of(manager_client.get(f"/bulk/{send.id}/messages"))
    assert 'value="2026-01-05T18:30"' in edit and ">本文</textarea>" in edit
    response = manager_client.post(f"/bulk/{send.id}/cancel")
    assert response.status_code == 302 and BulkSend.get_by_id(send.id).status == "cancelled"
    blocked = manager_client.get(f"/bulk/{send.id}/messages")
    assert blocked.status_code == 302
    assert "「取消」のため変更できません" in text_of(manager_client.get(blocked.headers["Location"]))


def test_replacing_recipients_of_a_draft(manager_client):
    send = make_draft(manager_client, count=3)
    response = manager_client.post(f"/bulk/{send.id}/recipients", data={"source": "paste", "pasted": "08099998888"})
    assert response.status_code == 302
    assert [r.to_number for r in BulkRecipient.select().where(BulkRecipient.bulk_send == send.id)] == ["+818099998888"]


def test_detail_failed_list_and_resend_action(manager_client, tickets_on, clock):
    tickets.add(4, reason="購入", actor="admin1")
    send = make_draft(manager_client, count=2)
    manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["一", "二"], "box": ["", ""], "schedule": "1",
                                                          "scheduled_at": "2026-01-05T11:00"})
    tickets.consume(3, reason="他の送信")  # one ticket left at 11:00: the first message of the first recipient
    clock.set("2026-01-05 11:00")
    runner.poll()
    detail = text_of(manager_client.get(f"/bulk/{send.id}?failed=1"))
    assert detail.count("チケット不足") == 3 and "配信エラーの番号に再送" in detail
    assert manager_client.get(f"/bulk/{send.id}/failed.txt").get_data(as_text=True) == "090-1000-0000\n090-1000-0001\n"
    response = manager_client.post(f"/bulk/{send.id}/resend")
    retry = BulkSend.select().order_by(BulkSend.id.desc()).get()
    assert response.headers["Location"].endswith(f"/bulk/{retry.id}/messages")
    assert retry.resend_of == send.id and retry.slot_count == 3


def test_ticket_page_admin_adds_with_a_reason(admin_client, manager_client):
    assert "残り <strong id=\"ticket-balance\">0</strong> 枚" in text_of(manager_client.get("/bulk/tickets"))
    assert manager_client.post("/bulk/tickets", data={"count": "10", "reason": "購入"}).status_code == 403
    missing = admin_client.post("/bulk/tickets", data={"count": "abc", "reason": ""})
    assert missing.status_code == 400
    assert "枚数は半角数字（整数）で入力してください（入力: abc）" in text_of(missing) and "理由を入力してください" in text_of(missing)
    assert admin_client.post("/bulk/tickets", data={"count": "100", "reason": "4月分購入"}).status_code == 302
    too_many = admin_client.post("/bulk/tickets", data={"count": "-101", "reason": "訂正"})
    assert "残り枚数（100 枚）より多くは減らせません。" in text_of(too_many)
    assert 'name="count" value="-101"' in text_of(too_many) and 'name="reason" value="訂正"' in text_of(too_many)
    ledger = text_of(admin_client.get("/bulk/tickets"))
    assert "4月分購入" in ledger and "admin1" in ledger and "+100" in ledger
    assert tickets.balance() == 100


def small_pages(app):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"web.page_size": 5})


def test_callers_seen_by_the_ivr_are_offered_and_become_recipients(app, manager_client, clock):
    from ivr.models import Call

    seen = [("+819011110001", "2026-01-02 09:00"), ("+819011110002", "2026-01-03 09:00"),
            ("+819011110001", "2026-01-04 09:00"),  # the same caller twice: offered once
            ("+81312345678", "2026-01-04 10:00"),   # landline: cannot receive SMS, not offered
            ("anonymous", "2026-01-04 11:00")]      # withheld
    for index, (number, at) in enumerate(seen):
        Call.create(call_sid=f"CA{index:032d}", from_number=number, to_number="+815000000000",
                    started_at=dt.datetime.fromisoformat(at))
    page = text_of(manager_client.get("/bulk/new"))
    assert "着信履歴から選ぶ（2 件）" in page
    offered = re.findall(r'name="caller" value="([^"]+)"', page)
    assert offered == ["+819011110001", "+819011110002"]  # newest call first
    assert "090-1111-0001" in page  # shown as people write numbers
    filtered = text_of(manager_client.get("/bulk/new?source=callers&since=2026-01-04"))
    assert re.findall(r'name="caller" value="([^"]+)"', filtered) == ["+819011110001"]
    assert 'value="callers" checked' in filtered and 'value="2026-01-04"' in filtered  # the period form keeps both

    nothing = manager_client.post("/bulk/new", data={"source": "callers"})
    assert nothing.status_code == 400 and "着信履歴から配信する電話番号を 1 件以上選んでください。" in text_of(nothing)
    kept = text_of(nothing)
    assert 'value="callers" checked' in kept  # the chosen source is kept, and the user's unticking too
    assert re.findall(r'name="caller" value="([^"]+)" checked', kept) == []

    response = manager_client.post("/bulk/new", data={"source": "callers", "caller": ["+819011110002"]})
    assert response.status_code == 302
    send = BulkSend.get()
    assert send.source == "callers" and send.source_detail == "着信履歴から 1 件を選択"
    assert [r.to_number for r in BulkRecipient.select().where(BulkRecipient.bulk_send == send.id)] == ["+819011110002"]


def test_recipients_of_a_send_are_paginated_and_the_failed_filter_kept(app, manager_client, tickets_on, clock):
    small_pages(app)
    tickets.add(9, reason="購入", actor="admin1")
    send = make_draft(manager_client, count=9)
    manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["本文"], "box": [""], "schedule": "1",
                                                          "scheduled_at": "2026-01-05T11:00"})
    tickets.consume(6, reason="他の送信")
    clock.set("2026-01-05 11:00")
    runner.poll()  # 3 tickets left for 9 recipients: the last 6 fail with チケット不足
    first = text_of(manager_client.get(f"/bulk/{send.id}"))
    assert "9 件中 1〜5 件" in first and "1 / 2 ページ" in first
    assert "090-1000-0004" in first and "090-1000-0005" not in first
    second = text_of(manager_client.get(f"/bulk/{send.id}?page=2"))
    assert "9 件中 6〜9 件" in second and "090-1000-0008" in second and "090-1000-0000" not in second

    failed = text_of(manager_client.get(f"/bulk/{send.id}?failed=1"))
    assert "6 件中 1〜5 件" in failed and failed.count(">チケット不足<") == 5 and "090-1000-0002" not in failed
    next_page = re.search(r'<a href="([^"]+)">次へ', failed).group(1)
    assert "failed=1" in next_page and "page=2" in next_page
    last = text_of(manager_client.get(next_page))
    assert "6 件中 6〜6 件" in last and "090-1000-0008" in last and "090-1000-0007" not in last


def test_history_is_paginated_newest_first_and_the_status_filter_kept(app, manager_client, clock):
    small_pages(app)
    made = []
    for index in range(7):
        made.append(make_draft(manager_client, count=1).id)
        clock.advance(minutes=1)
    manager_client.post(f"/bulk/{made[0]}/confirm", data={"message": ["本文"], "box": [""], "schedule": "1",
                                                          "scheduled_at": "2026-01-06T09:00"})
    first = text_of(manager_client.get("/bulk/"))
    assert "7 件中 1〜5 件" in first
    assert re.findall(r"<td>(\d+)</td>\s*<td>一括配信 #", first) == [str(i) for i in reversed(made[2:])]
    assert 'href="/bulk/?page=2"' in first
    second = text_of(manager_client.get("/bulk/?page=2"))
    assert re.findall(r"<td>(\d+)</td>\s*<td>一括配信 #", second) == [str(made[1]), str(made[0])]

    drafts = text_of(manager_client.get("/bulk/?status=draft"))
    assert "6 件中 1〜5 件" in drafts and "status=draft" in re.search(r'href="([^"]*page=2[^"]*)"', drafts).group(1)
    assert re.findall(r"<td>(\d+)</td>\s*<td>一括配信 #", text_of(manager_client.get("/bulk/?status=scheduled"))) \
        == [str(made[0])]


def test_cancel_is_a_confirmed_post_and_a_get_changes_nothing(manager_client, clock):
    send = make_draft(manager_client)
    manager_client.post(f"/bulk/{send.id}/confirm", data={"message": ["本文"], "box": [""], "schedule": "1",
                                                          "scheduled_at": "2026-01-05T18:30"})
    page = text_of(manager_client.get(f"/bulk/{send.id}"))
    form = re.search(rf'<form method="post" action="/bulk/{send.id}/cancel"[^>]*data-confirm="([^"]+)"', page)
    assert form and "を取り消しますか？（元に戻せません）" in form.group(1)
    assert manager_client.get(f"/bulk/{send.id}/cancel").status_code == 405
    assert manager_client.post(f"/bulk/{send.id}/cancel", csrf=False).status_code == 400
    assert BulkSend.get_by_id(send.id).status == "scheduled"
