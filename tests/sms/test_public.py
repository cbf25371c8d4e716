"""The contract ivr, bulk and reports build on: check_mobile, send_box_to_caller, box_choices."""
from sms import public, seed_defaults
from sms.models import Message, StorageBox


def test_check_mobile_gives_e164_or_a_japanese_reason():
    assert public.check_mobile("090-1234-5678") == public.NumberCheck(True, "+819012345678", None)
    refused = public.check_mobile("050-1234-5678")
    assert not refused.ok and refused.e164 is None and "IP 電話" in refused.reason


def test_send_box_to_caller_queues_one_row_and_is_idempotent(app, clock):
    seed_defaults(app)
    first = public.send_box_to_caller(1, "+819012345678", call_sid="CA1", idempotency_key="CA1:sms:n3")
    again = public.send_box_to_caller(1, "+819012345678", call_sid="CA1", idempotency_key="CA1:sms:n3")
    assert first.ok and first.message_id == again.message_id
    message = Message.get_by_id(first.message_id)
    assert (message.to_number, message.box_number, message.source, message.call_sid) == (
        "+819012345678", 1, "ivr", "CA1")
    assert (message.status, message.state, message.provider_sid) == (1, "queued", None)
    assert "{url}" not in message.body and "http://localhost/s/" in message.body
    assert "http://localhost/optout/" in message.body
    assert Message.select().count() == 1


def test_send_box_to_caller_refusals(app):
    seed_defaults(app)
    assert public.send_box_to_caller(1, "anonymous", call_sid="CA2", idempotency_key="k2").code == "withheld"
    assert public.send_box_to_caller(1, "0312345678", call_sid="CA3", idempotency_key="k3").code == "not_mobile"
    missing = public.send_box_to_caller(99, "09012345678", call_sid="CA4", idempotency_key="k4")
    assert (missing.ok, missing.code) == (False, "no_box") and "99" in missing.reason
    assert Message.select().count() == 0


def test_box_choices_lists_boxes_in_number_order(app):
    StorageBox.create(number=5, name="予約確認", body="予約を承りました。")
    seed_defaults(app)
    assert public.box_choices() == [(1, "1: お問い合わせ案内"), (5, "5: 予約確認")]
