"""Storage box pages (R-20): list and search, create, detail with fixed number and name, save with audit,
bad input re-rendered with the user's text, the live check endpoint, and the test send."""
import pytest

from core.models import AuditLog
from sms import seed_defaults
from sms.models import Message, StorageBox


def test_seed_creates_box_1_once_and_keeps_edits(app):
    seed_defaults(app)
    StorageBox.update(body="変更後 {url}").where(StorageBox.number == 1).execute()
    seed_defaults(app)
    box = StorageBox.get(StorageBox.number == 1)
    assert StorageBox.select().count() == 1 and box.body == "変更後 {url}" and box.url


def test_box_list_searches_by_number_name_and_text(staff_client, box):
    StorageBox.create(number=12, name="営業時間のご案内", body="営業時間は9時〜18時です。")
    page = staff_client.get("/sms/boxes").get_data(as_text=True)
    assert "来店予約" in page and "営業時間のご案内" in page
    by_name = staff_client.get("/sms/boxes?q=営業").get_data(as_text=True)
    assert "営業時間のご案内" in by_name and "来店予約" not in by_name
    by_number = staff_client.get("/sms/boxes?q=7").get_data(as_text=True)
    assert "来店予約" in by_number and "営業時間のご案内" not in by_number


def test_create_a_box(staff_client):
    response = staff_client.post("/sms/boxes/new", data={"number": "3", "name": "資料請求", "body": "資料はこちら～{url}",
                                                         "url": "https://example.jp/docs"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sms/boxes/3")
    box = StorageBox.get(StorageBox.number == 3)
    assert (box.name, box.body, box.url, box.updated_by) == ("資料請求", "資料はこちら〜{url}", "https://example.jp/docs", "staff1")
    assert AuditLog.get(AuditLog.action == "box.created").target == "蓄積BOX 3"


def test_create_refuses_bad_input_and_keeps_it(staff_client, box):
    response = staff_client.post("/sms/boxes/new", data={"number": "7", "name": "", "body": "髙橋様へ", "url": "example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for text in ("蓄積BOX番号 7 は既に使われています。", "蓄積BOX名を入力してください。", "「髙」(U+9AD9)",
                 "URL は http:// または https:// で始まる形式で入力してください。", ">髙橋様へ</textarea>", 'value="example"'):
        assert text in page
    assert StorageBox.select().count() == 1


def test_detail_shows_number_and_name_read_only(staff_client, box):
    page = staff_client.get("/sms/boxes/7").get_data(as_text=True)
    assert 'id="box-name" value="来店予約" readonly' in page
    assert 'name="name"' not in page and 'name="number"' not in page
    assert "蓄積BOX番号・蓄積BOX名は変更できません" in page


def test_save_changes_text_and_url_but_never_number_or_name(staff_client, box):
    response = staff_client.post("/sms/boxes/7", data={"number": "99", "name": "乗っ取り", "body": "新しい本文 {url}",
                                                       "url": "https://example.jp/new"})
    assert response.status_code == 302
    saved = StorageBox.get_by_id(box.id)
    assert (saved.number, saved.name, saved.body, saved.url) == (7, "来店予約", "新しい本文 {url}", "https://example.jp/new")
    entry = AuditLog.get(AuditLog.action == "box.updated")
    assert entry.actor == "staff1" and "新しい本文" in entry.detail and "https://example.jp/reserve" in entry.detail


def test_save_refuses_too_long_text_and_keeps_it(staff_client, box):
    text = "あ" * 661
    response = staff_client.post("/sms/boxes/7", data={"body": text, "url": box.url})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "本文が長すぎます" in page and text in page
    assert StorageBox.get_by_id(box.id).body == box.body


def test_url_placeholder_needs_a_url(staff_client, box):
    response = staff_client.post("/sms/boxes/7", data={"body": "詳細 {url}", "url": ""})
    assert response.status_code == 400
    assert "本文に {url} がありますが、URLが設定されていないため使えません。" in response.get_data(as_text=True)


def test_unknown_box_is_a_japanese_404(staff_client):
    response = staff_client.get("/sms/boxes/404")
    assert response.status_code == 404 and "蓄積BOX 404 は登録されていません。" in response.get_data(as_text=True)


def test_live_check_reports_count_parts_and_offenders(staff_client, box):
    result = staff_client.post("/sms/check", json={"text": "髙" + "あ" * 70 + "※", "url": ""}).get_json()
    assert (result["length"], result["parts"], result["max_length"], result["ok"]) == (72, 2, 660, False)
    assert result["offending"] == ["髙"] and result["special"] == ["※"]
    with_url = staff_client.post("/sms/check", json={"text": "{url}", "url": "https://example.jp"}).get_json()
    assert with_url["length"] == len("http://localhost/s/") + 8
    assert staff_client.post("/sms/check", json={"text": 5}).get_json()["errors"] == ["本文を入力してください。"]


def test_test_send_queues_and_sends_in_simulator_mode(staff_client, box):
    response = staff_client.post("/sms/boxes/7/test", data={"to": "090-1234-5678"})
    assert response.status_code == 302
    message = Message.get()
    assert (message.source, message.box_number, message.state, message.provider, message.created_by) == (
        "ui", 7, "sending", "simulator", "staff1")
    assert AuditLog.get(AuditLog.action == "box.test_sent").target == "蓄積BOX 7"


@pytest.mark.parametrize("to, reason", [
    ("03-1234-5678", "固定電話の番号には SMS を送信できません。"),
    ("090-1234-56", "携帯電話番号は 11 桁です（入力は 9 桁）。"),   # incomplete
])
def test_test_send_to_a_number_that_takes_no_sms_is_refused_with_the_reason(staff_client, box, to, reason):
    response = staff_client.post("/sms/boxes/7/test", data={"to": to})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"テスト送信できません: {reason}" in page and f'value="{to}"' in page
    assert Message.select().count() == 0


def test_box_pages_need_a_login(client, box):
    assert client.get("/sms/boxes").status_code == 302


def test_odd_digits_in_box_numbers_are_refused_not_crashed(staff_client, box):
    assert staff_client.get("/sms/boxes?q=²").status_code == 200
    assert "来店予約" in staff_client.get("/sms/boxes?q=00007").get_data(as_text=True)
    response = staff_client.post("/sms/boxes/new", data={"number": "²", "name": "上付き", "body": "本文"})
    assert response.status_code == 400
    assert "蓄積BOX番号は 1〜9999 の半角数字で入力してください。" in response.get_data(as_text=True)


def test_nul_characters_are_refused_before_the_database_sees_them(staff_client, manager_client, client, box):
    for response in (staff_client.get("/sms/boxes?q=%00"), manager_client.get("/sms/optouts?q=a%00"),
                     staff_client.post("/sms/boxes/new", data={"number": "5", "name": "a\x00", "body": "本文"}),
                     client.get("/s/%00"), client.get("/optout/ab%00")):
        assert response.status_code == 400
        assert "NUL 文字" in response.get_data(as_text=True)
    assert StorageBox.select().count() == 1
