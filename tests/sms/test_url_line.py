"""R-25: the box URL always arrives. A text with a URL and no {url} gets the short link on a line of its own; the
editor's counter, the part count and the 660 limit count it, exactly as it is sent; a {url} with no URL is refused
naming the field (box page, bulk, API)."""
from sms.models import Message, ShortLink, StorageBox
from sms.sending import check_template, preview, queue_box, queue_text

SHORT = len("http://localhost/s/") + 8


def test_a_box_with_a_url_and_no_placeholder_sends_text_then_the_link(app):
    StorageBox.create(number=3, name="地図", body="ご来店ありがとうございます。", url="https://example.jp/map")
    checked = check_template("ご来店ありがとうございます。", "https://example.jp/map")
    result = queue_box(3, "090-1234-5678", source="ui")
    message = Message.get_by_id(result.message_id)
    link = ShortLink.get(ShortLink.message == message.id)
    assert message.body == f"ご来店ありがとうございます。\nhttp://localhost/s/{link.code}"
    assert link.target_url == "https://example.jp/map"
    assert (checked.length, checked.parts) == (len(message.body), message.parts) == (15 + SHORT, 1)
    assert checked.text == "ご来店ありがとうございます。"  # what the box keeps: the line is added when sending


def test_counter_and_parts_agree_with_what_is_sent_across_the_part_boundary(app):
    text = "あ" * (70 - SHORT - 1)  # with the URL line: exactly 70, one part
    assert check_template(text, "https://example.jp").parts == 1
    longer = text + "い"
    checked = check_template(longer, "https://example.jp")
    message = Message.get_by_id(queue_text(longer, "090-1234-5678", source="api", url="https://example.jp").message_id)
    assert (checked.length, checked.parts) == (len(message.body), message.parts) == (71, 2)


def test_the_660_limit_counts_the_url_line(app):
    checked = check_template("あ" * (660 - SHORT), "https://example.jp")
    assert checked.errors == (f"本文が長すぎます（{660 + 1} 文字。最大 660 文字）。",)
    assert check_template("あ" * (660 - SHORT - 1), "https://example.jp").ok


def test_a_text_ending_in_a_line_break_gets_no_blank_line(app):
    message = Message.get_by_id(queue_text("詳細は\n", "090-1234-5678", source="api", url="https://e.jp").message_id)
    assert message.body.startswith("詳細は\nhttp://localhost/s/") and "\n\n" not in message.body
    assert check_template("詳細は\n", "https://e.jp").length == len(message.body)


def test_placeholder_in_place_or_no_url_adds_nothing(app):
    placed = Message.get_by_id(queue_text("地図 {url} です", "090-1234-5678", source="api", url="https://e.jp").message_id)
    assert placed.body.startswith("地図 http://localhost/s/") and placed.body.endswith(" です")
    plain = Message.get_by_id(queue_text("お知らせのみ", "090-1234-5678", source="api").message_id)
    assert plain.body == "お知らせのみ" and ShortLink.select().where(ShortLink.message == plain.id).count() == 0


def test_live_check_counts_and_previews_the_link(staff_client, box):
    result = staff_client.post("/sms/check", json={"text": "地図はこちら", "url": "https://example.jp"}).get_json()
    assert (result["length"], result["parts"], result["ok"]) == (6 + 1 + SHORT, 1, True)
    assert result["preview"] == "地図はこちら\nhttp://localhost/s/AbCd1234"
    assert preview("停止 {optout_url}", "") == "停止 http://localhost/optout/SampleOptOutToken-0123"


def test_box_page_shows_the_preview_with_the_link(staff_client, box):
    StorageBox.update(body="ご予約ありがとうございます。").where(StorageBox.id == box.id).execute()
    page = staff_client.get("/sms/boxes/7").get_data(as_text=True)
    assert 'id="sms-preview"' in page and "ご予約ありがとうございます。\nhttp://localhost/s/AbCd1234" in page
    assert f'id="char-count">{14 + 1 + SHORT}<' in page


def test_url_placeholder_without_url_names_the_field_on_the_box_page(staff_client, box):
    response = staff_client.post("/sms/boxes/7", data={"body": "詳細 {url}", "url": ""})
    assert response.status_code == 400
    assert "本文: 本文に {url} がありますが、URLが設定されていないため使えません。" in response.get_data(as_text=True)


def test_api_text_with_a_url_appends_it_and_without_one_refuses_naming_url(app, client):
    from core.security import issue_api_token

    headers = {"Authorization": f"Bearer {issue_api_token('基幹システム')[1]}"}
    sent = client.post("/api/v1/messages", json={"to": "090-1234-5678", "text": "ご案内", "url": "https://e.jp/a"},
                       headers=headers, csrf=False)
    assert sent.status_code == 201
    assert Message.get_by_id(sent.get_json()["id"]).body.startswith("ご案内\nhttp://localhost/s/")
    refused = client.post("/api/v1/messages", json={"to": "090-1234-5678", "text": "詳細 {url}"}, headers=headers,
                          csrf=False)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["message"] == "本文に {url} がありますが、urlが設定されていないため使えません。"
    bad = client.post("/api/v1/messages", json={"to": "090-1234-5678", "box": 1, "url": "https://e.jp"},
                      headers=headers, csrf=False)
    assert bad.status_code == 400 and "url は" in bad.get_json()["error"]["message"]


def test_bulk_messages_count_the_box_url_line(app):
    from sms.bulk.sends import read_message_form

    StorageBox.create(number=4, name="長文", body="x", url="https://example.jp/long")
    _, errors = read_message_form(["あ" * (660 - SHORT)], ["4"], schedule=False)
    assert errors == [f"メッセージ1: 本文が長すぎます（{661} 文字。最大 660 文字）。"]
    form, errors = read_message_form(["あ" * (660 - SHORT - 1)], ["4"], schedule=False)
    assert errors == [] and form.texts == ["あ" * (660 - SHORT - 1)]
