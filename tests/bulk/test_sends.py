"""Creating, confirming, editing, cancelling and resending bulk sends (R-41, R-43, R-44, R-46)."""
from __future__ import annotations

import pytest

from sms import tickets
from sms.bulk import runner, sends
from sms.bulk.models import BulkRecipient, BulkSend, BulkSkipped
from sms.bulk.recipients import parse_pasted
from sms.models import Message, StorageBox
from sms.outbox import run_dispatch
from tests.bulk.conftest import e164, numbers, outbox_counts


def draft_of(recipients, actor="tester"):
    return sends.create_draft(sends.build_recipients(parse_pasted("\n".join(recipients))), source="paste", actor=actor)


def form(*texts, scheduled=None):
    result, errors = sends.read_message_form(list(texts), [None] * len(texts), schedule=scheduled is not None,
                                             scheduled_text=scheduled or "")
    assert errors == []
    return result


def test_creating_a_send_with_too_few_tickets_is_refused_and_nothing_changes(tickets_on, clock):
    tickets.add(19, reason="購入", actor="admin1")
    draft = draft_of(numbers(10))
    with pytest.raises(sends.BulkError) as refused:
        sends.confirm(draft.id, form("1通目", "2通目"), "tester")
    assert refused.value.code == "insufficient_tickets"
    assert refused.value.errors == [("チケットが不足しているため配信できません（必要 20 枚、残り 19 枚）。"
                                     "チケットを追加してから、もう一度お試しください。")]
    assert BulkSend.get_by_id(draft.id).status == "draft"
    with pytest.raises(sends.BulkError, match="必要 20 枚"):
        sends.confirm(draft.id, form("1通目", "2通目", scheduled="2026-01-06T09:00"), "tester")  # 配信予約 too
    assert tickets.balance() == 19
    assert sends.confirm(draft.id, form("1通目だけ"), "tester").status == "scheduled"  # 10 tickets do fit


def test_duplicates_and_hyphenated_duplicates_are_sent_once(app, clock):
    pasted = ["090-1234-5678", "09012345678", "０９０－１２３４－５６７８", "+81 90 1234 5678", "080-1111-2222",
              "08011112222"]
    draft = draft_of(pasted)
    draft = BulkSend.get_by_id(draft.id)
    assert (draft.recipient_count, draft.duplicate_count) == (2, 4)
    duplicates = BulkSkipped.select().where((BulkSkipped.bulk_send == draft.id) & (BulkSkipped.kind == "duplicate"))
    assert sorted(s.line for s in duplicates) == [2, 3, 4, 6]
    sends.confirm(draft.id, form("お知らせ"), "tester")
    runner.poll()
    assert outbox_counts(draft.id) == {("+819012345678", "お知らせ"): 1, ("+818011112222", "お知らせ"): 1}


def test_non_mobile_and_opted_out_numbers_are_skipped_with_reasons(app, clock):
    from sms import links

    links.opt_out("+818033334444")
    draft = BulkSend.get_by_id(draft_of(["0312345678", "05012345678", "080-3333-4444", "090-5555-6666"]).id)
    assert (draft.recipient_count, draft.invalid_count, draft.optout_count) == (1, 2, 1)
    reasons = {s.raw: (s.kind, s.reason) for s in BulkSkipped.select().where(BulkSkipped.bulk_send == draft.id)}
    assert reasons["05012345678"][0] == "invalid" and "IP 電話" in reasons["05012345678"][1]
    assert reasons["080-3333-4444"] == ("optout", "配信停止済みの番号です")


def test_nobody_to_send_to_is_refused():
    with pytest.raises(sends.BulkError, match="0 件"):
        sends.check_recipient_count(sends.RecipientList())


@pytest.mark.parametrize("texts, expected", [
    (["", ""], "メッセージ1: 本文を入力してください。"),
    (["絵文字😀"], "メッセージ1: ISO-2022-JP（JIS）で送信できない文字が含まれています"),
    (["ok", "髙橋様"], "メッセージ2: ISO-2022-JP（JIS）で送信できない文字が含まれています"),
    (["あ" * 700], "メッセージ1: 本文が長すぎます（700 文字。最大 660 文字）。"),
    (["{url} を開いてください"], "メッセージ1: 本文に {url} がありますが、URLが設定されていないため使えません。"),
])
def test_messages_are_checked_like_any_sms(app, texts, expected):
    _, errors = sends.read_message_form(texts, [None] * len(texts), schedule=False)
    assert any(e.startswith(expected) for e in errors), errors


def test_second_empty_field_is_ignored_and_placeholders_are_allowed(app):
    result, errors = sends.read_message_form(["停止は {optout_url}", ""], ["", ""], schedule=False)
    assert errors == [] and result.texts == ["停止は {optout_url}"]
    StorageBox.create(number=3, name="案内", body="詳細は {url} をご覧ください。", url="https://example.jp/a")
    result, errors = sends.read_message_form(["", "続報は {url}"], ["3", "3"], schedule=False)
    assert errors == [] and result.boxes == [3, 3]
    assert result.texts == ["詳細は {url} をご覧ください。", "続報は {url}"]  # an empty field takes the box's text
    _, errors = sends.read_message_form(["本文"], ["9"], schedule=False)
    assert errors == ["メッセージ1: 蓄積BOX 9 は登録されていません。"]


@pytest.mark.parametrize("typed, expected", [
    ("", "配信日時を入力してください"),
    ("明日の朝", "配信日時は YYYY-MM-DD HH:MM の形式で入力してください（入力: 明日の朝）"),
    ("2026-01-05T２５:00", "配信日時は YYYY-MM-DD HH:MM の形式で入力してください"),
    ("9999-12-31T23:59", "配信日時は 1900〜2100 年の日時で入力してください"),
    ("2026-02-30T10:00", "配信日時に存在しない日時が指定されています"),
    ("2026-01-05T09:59", "配信日時 2026-01-05 09:59 は過去の時刻です"),
    ("2028-01-05T09:59", "配信日時は 1 年以内で指定してください。"),
])
def test_schedule_must_be_a_readable_future_time(app, clock, typed, expected):
    _, errors = sends.read_message_form(["本文"], [None], schedule=True, scheduled_text=typed)
    assert len(errors) == 1 and errors[0].startswith(expected)


def test_a_scheduled_send_can_be_edited_or_cancelled_until_it_starts(app, clock):
    draft = draft_of(numbers(3))
    sends.confirm(draft.id, form("最初の本文", scheduled="2026-01-05T12:00"), "tester")
    edited = sends.confirm(draft.id, form("直した本文", "追加の本文", scheduled="2026-01-05T13:00"), "tester")
    assert edited.messages == ["直した本文", "追加の本文"] and edited.scheduled_at.hour == 13
    assert edited.slot_count == 6
    clock.set("2026-01-05 12:30")
    assert runner.poll().started == 0  # moved to 13:00
    clock.set("2026-01-05 13:00")
    runner.poll()
    with pytest.raises(sends.BulkError, match="「配信完了」のため変更できません"):
        sends.confirm(draft.id, form("遅すぎる変更"), "tester")
    with pytest.raises(sends.BulkError, match="変更できません"):
        sends.cancel(draft.id, "tester")
    assert {body for _, body in outbox_counts(draft.id)} == {"直した本文", "追加の本文"}

    other = draft_of(numbers(2, start=50))
    sends.confirm(other.id, form("本文", scheduled="2026-01-05T18:00"), "tester")
    cancelled = sends.cancel(other.id, "tester")
    assert cancelled.status == "cancelled" and cancelled.cancelled_by == "tester"


def test_replacing_recipients_of_a_scheduled_send_checks_tickets_again(tickets_on, clock):
    tickets.add(4, reason="購入", actor="admin1")
    draft = draft_of(numbers(2))
    sends.confirm(draft.id, form("一", "二", scheduled="2026-01-05T12:00"), "tester")
    more = sends.build_recipients(parse_pasted("\n".join(numbers(3))))
    with pytest.raises(sends.BulkError, match="必要 6 枚、残り 4 枚"):
        sends.replace_recipients(BulkSend.get_by_id(draft.id), more, source="paste", actor="tester")
    assert BulkRecipient.select().where(BulkRecipient.bulk_send == draft.id).count() == 2  # rolled back


def test_resend_of_failures_sends_only_what_failed(tickets_on, clock):
    """No-ticket slots and carrier failures are resent, each recipient only the messages it missed."""
    app = tickets_on
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.resend_count": 0})
    tickets.add(8, reason="購入", actor="admin1")
    people = ["090-9999-0005", "090-2000-0002", "090-2000-0003", "090-2000-0004"]  # the first: number gone (30005)
    draft = draft_of(people)
    sends.confirm(draft.id, form("一通目", "二通目", scheduled="2026-01-05T11:00"), "tester")
    tickets.consume(3, reason="他の送信")
    clock.set("2026-01-05 11:00")
    runner.poll()  # 5 tickets for 8 slots: 1st and 2nd both, 3rd the first only, 4th none
    run_dispatch()
    clock.advance(seconds=5)
    run_dispatch()  # the simulated carrier's receipts: 090-9999-0005 fails "現在使われていない番号"
    failed = Message.select().where((Message.bulk_send_id == draft.id) & (Message.state == "failed"))
    assert sorted(m.to_number for m in failed) == ["+819099990005", "+819099990005"]

    assert sends.failed_numbers(draft.id) == [e164(p) for p in (people[0], people[2], people[3])]
    retry = sends.resend_failures(draft.id, "tester")
    assert retry.status == "draft" and retry.source == "resend" and retry.resend_of == draft.id
    assert retry.messages == ["一通目", "二通目"] and retry.slot_count == 5
    tickets.add(5, reason="追加購入", actor="admin1")
    with pytest.raises(sends.BulkError, match="メッセージの数は元の配信と同じ"):
        sends.confirm(retry.id, form("一通目"), "tester")
    sends.confirm(retry.id, form("一通目", "二通目"), "tester")
    runner.poll()
    assert outbox_counts(retry.id) == {
        ("+819099990005", "一通目"): 1, ("+819099990005", "二通目"): 1,
        (e164(people[2]), "二通目"): 1,
        (e164(people[3]), "一通目"): 1, (e164(people[3]), "二通目"): 1,
    }


def test_nothing_to_resend_is_a_clear_error(app, clock):
    draft = draft_of(numbers(1))
    with pytest.raises(sends.BulkError, match="配信が始まっていない"):
        sends.resend_failures(draft.id, "tester")
    sends.confirm(draft.id, form("本文"), "tester")
    runner.poll()
    with pytest.raises(sends.BulkError, match="配信エラーになった電話番号はありません"):
        sends.resend_failures(draft.id, "tester")


def test_old_drafts_are_purged_and_confirmed_sends_kept(app, clock):
    old = draft_of(numbers(2))
    kept = draft_of(numbers(2, start=10))
    sends.confirm(kept.id, form("本文", scheduled="2026-02-01T10:00"), "tester")
    clock.set("2026-01-13 10:00")
    assert sends.purge_old_drafts() == 1
    assert BulkSend.get_or_none(BulkSend.id == old.id) is None
    assert not BulkRecipient.select().where(BulkRecipient.bulk_send == old.id).exists()
    assert BulkSend.get_by_id(kept.id).status == "scheduled"
