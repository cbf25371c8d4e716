"""Delivery log (R-30): filters, pagination, CSV (UTF-8 with BOM), message detail; monthly counts per
box with the billing setting (R-31); the outbox page; roles."""
import csv
import io

from sms.models import Message
from sms.outbox import run_dispatch
from sms.sending import queue_box, queue_text


def make_log(clock, box):
    clock.set("2026-01-05 09:00")
    queue_box(7, "090-1111-2222", source="ivr", call_sid="CA1")
    clock.set("2026-01-06 10:00")
    queue_text("自由文のお知らせ", "080-3333-4444", source="api")
    clock.set("2026-01-07 11:00")
    queue_box(7, "090-9999-0005", source="ui")
    run_dispatch()
    clock.advance(seconds=3)
    run_dispatch()


def test_log_lists_every_message_with_its_columns(manager_client, clock, box):
    make_log(clock, box)
    page = manager_client.get("/sms/log").get_data(as_text=True)
    for text in ("090-1111-2222", "080-3333-4444", "7 来店予約", "自由文のお知らせ", "送達", "配信失敗", "現在使われていない番号",
                 "IVR", "API", "管理画面", "3 件中 1〜3 件"):
        assert text in page


def test_log_filters_by_dates_number_box_and_state(manager_client, clock, box):
    make_log(clock, box)

    def rows(query):
        return manager_client.get("/sms/log?" + query).get_data(as_text=True)

    assert "080-3333-4444" in rows("date_from=2026-01-06&date_to=2026-01-06")
    assert "090-1111-2222" not in rows("date_from=2026-01-06&date_to=2026-01-06")
    assert "090-1111-2222" in rows("number=090-1111-2222") and "080-3333-4444" not in rows("number=090-1111-2222")
    assert "080-3333-4444" not in rows("box=7")
    failed = rows("state=failed")
    assert "090-9999-0005" in failed and "090-1111-2222" not in failed


def test_bad_filters_get_a_japanese_message_and_keep_the_input(manager_client, clock, box):
    make_log(clock, box)
    response = manager_client.get("/sms/log?date_from=2026-13-01&box=abc&date_to=2026-01-01")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "開始日に存在しない日付が指定されています（入力: 2026-13-01）。" in page
    assert "蓄積BOX番号は半角数字（整数）で入力してください（入力: abc）。" in page
    assert 'value="abc"' in page


def test_csv_has_a_bom_japanese_headers_and_the_filtered_rows(manager_client, clock, box):
    make_log(clock, box)
    response = manager_client.get("/sms/log.csv?state=failed")
    raw = response.get_data()
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # one charset (it was sent twice)
    assert response.headers["Content-Disposition"].startswith('attachment; filename="20260107_1100.csv"')
    assert "filename*=UTF-8''%E9%85%8D%E4%BF%A1%E5%B1%A5%E6%AD%B4_" in response.headers["Content-Disposition"]
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:8] == ["ID", "日時", "送信先", "キャリア", "蓄積BOX", "本文", "通数", "ステータス"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1]))
    assert (row["送信先"], row["蓄積BOX"], row["ステータス"], row["状態"], row["エラーメッセージ"]) == (
        "090-9999-0005", "7 来店予約", "3", "配信失敗", "現在使われていない番号")


def test_monthly_counts_per_box_follow_the_billing_setting(manager_client, app, clock, box):
    make_log(clock, box)
    page = manager_client.get("/sms/log/monthly?month=2026-01").get_data(as_text=True)
    assert "2026年01月" in page and "本文指定（蓄積BOXなし）" in page
    import datetime as dt

    from sms.billing import live_counts as monthly_counts

    delivered = {r["box_number"]: (r["total"], r["delivered"], r["failed"], r["billable"]) for r in
                 monthly_counts(dt.date(2026, 1, 1))}
    assert delivered == {7: (2, 1, 1, 1), None: (1, 1, 0, 1)}
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.billing": "all"})
    everything = {r["box_number"]: r["billable"] for r in monthly_counts(dt.date(2026, 1, 1))}
    assert everything == {7: 2, None: 1}
    assert monthly_counts(dt.date(2026, 2, 1)) == []


def test_monthly_bad_month_is_reported(manager_client):
    page = manager_client.get("/sms/log/monthly?month=2026-1x").get_data(as_text=True)
    assert "対象月は YYYY-MM の形式で入力してください（入力: 2026-1x）。" in page


def test_message_detail_shows_attempts_and_receipts(manager_client, clock, box):
    make_log(clock, box)
    failed = Message.get(Message.to_number == "+819099990005")
    page = manager_client.get(f"/sms/messages/{failed.id}").get_data(as_text=True)
    assert failed.provider_sid in page and "不達" in page and "現在使われていない番号" in page
    assert "undelivered" not in page  # the provider's status in words
    assert manager_client.get("/sms/messages/999999").status_code == 404


def test_outbox_shows_simulated_sms_and_the_test_numbers(manager_client, clock, box):
    make_log(clock, box)
    page = manager_client.get("/sms/outbox").get_data(as_text=True)
    assert "送信ボックス（シミュレーター）" in page and "自由文のお知らせ" in page
    assert "090-9999-0005" in page and "「現在使われていない番号」で失敗（再送しない）" in page


def test_log_is_for_managers(staff_client):
    assert staff_client.get("/sms/log").status_code == 403
    assert staff_client.get("/sms/log.csv").status_code == 403


def test_outbox_with_twilio_lists_what_waits_to_be_sent(manager_client, app, clock, box):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"telephony.provider": "twilio"})
    queue_text("まだ送っていない本文", "080-3333-4444", source="api")
    page = manager_client.get("/sms/outbox").get_data(as_text=True)
    assert "送信待ちの SMS" in page and "まだ送っていない本文" in page and "080-3333-4444" in page
    assert 'id="waiting-count">1<' in page and "テスト用番号" not in page


def test_out_of_range_dates_months_and_boxes_are_reported_not_crashed(manager_client, clock, box):
    make_log(clock, box)
    page = manager_client.get("/sms/log?date_to=9999-12-31&box=99999999999999999999").get_data(as_text=True)
    assert "終了日は 1900〜2100 年の日付で入力してください（入力: 9999-12-31）。" in page
    assert "蓄積BOX番号は 1〜9999 の範囲で入力してください（入力: 99999999999999999999）。" in page
    assert "090-1111-2222" in page  # the bad filters are left out, the rest still apply
    assert manager_client.get("/sms/log.csv?date_from=0001-01-01&box=²").status_code == 200
    monthly = manager_client.get("/sms/log/monthly?month=9999-12")
    assert monthly.status_code == 200
    assert "対象月は 1900〜2100 年の月で入力してください（入力: 9999-12）。" in monthly.get_data(as_text=True)
