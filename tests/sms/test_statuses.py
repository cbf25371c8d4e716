"""R-26..R-29 decisions as plain functions: status mapping, receipts, resend and its window, send errors, pacing."""
import datetime as dt

import pytest

from sms.outbox import Pacer
from sms.statuses import (
    ResendPolicy,
    api_status,
    decide_due_resend,
    decide_receipt,
    decide_send_error,
    error_message,
    in_window,
    parse_window,
    timed_out,
)

T = dt.datetime(2026, 1, 5, 12, 0)
POLICY = ResendPolicy.from_settings(3, 10, "21:00-09:00")


@pytest.mark.parametrize("status, code", [("queued", 1), ("sending", 1), ("sent", 1), ("accepted", 1),
                                          ("delivered", 2), ("undelivered", 3), ("failed", 3), ("SENT", 1),
                                          ("nonsense", None)])
def test_twilio_statuses_map_to_api_codes(status, code):
    assert api_status(status) == code


@pytest.mark.parametrize("code, text", [(30005, "現在使われていない番号"), (30004, "その他エラー"), (30007, "その他エラー"),
                                        (30008, ""), (39999, ""), (None, "")])
def test_error_messages_in_japanese_blank_when_unknown(code, text):
    assert error_message(code) == text


def test_delivered_is_final_and_never_goes_back():
    delivered = decide_receipt("sending", 0, "delivered", None, T, POLICY)
    assert (delivered.state, delivered.status, delivered.final) == ("delivered", 2, True)
    for late in ("sent", "failed", "delivered", "queued"):
        assert decide_receipt("delivered", 0, late, None, T, POLICY) is None


def test_failure_with_resends_left_waits_as_resend_while_the_api_shows_1():
    decision = decide_receipt("sending", 0, "failed", 30003, T, POLICY)
    assert (decision.state, decision.status, decision.resend_at) == ("resend_wait", 1, T + dt.timedelta(minutes=10))
    assert decision.error_message == "端末の電源が入っていないか、圏外です"


def test_failure_after_the_last_resend_is_final():
    decision = decide_receipt("sending", 3, "undelivered", 30003, T, POLICY)
    assert (decision.state, decision.status, decision.resend_at) == ("failed", 3, None)


@pytest.mark.parametrize("code", [30005, 30006, 21211, 21614, 21610])
def test_no_resend_after_a_permanent_or_wrong_carrier_failure(code):
    decision = decide_receipt("sending", 0, "failed", code, T, POLICY)
    assert (decision.state, decision.status) == ("failed", 3)


def test_out_of_order_sent_after_failure_keeps_the_planned_resend():
    assert decide_receipt("resend_wait", 0, "sent", None, T, POLICY) is None
    assert decide_receipt("resend_wait", 0, "failed", 30003, T, POLICY) is None


def test_window_wraps_midnight():
    window = parse_window("21:00-09:00")
    assert [in_window(T.replace(hour=h, minute=m), window) for h, m in
            [(20, 59), (21, 0), (23, 30), (0, 0), (8, 59), (9, 0), (12, 0)]] == [
        False, True, True, True, True, False, False]
    assert parse_window("") is None
    with pytest.raises(ValueError):
        parse_window("9時から")


def test_seed_000_example_third_resend_at_21_05_is_not_made():
    failed_at = dt.datetime(2026, 1, 5, 20, 55)
    after_second = decide_receipt("sending", 2, "failed", 30003, failed_at, POLICY)
    assert after_second.state == "resend_wait" and after_second.resend_at == dt.datetime(2026, 1, 5, 21, 5)
    verdict = decide_due_resend(after_second.resend_at, POLICY)
    assert (verdict.state, verdict.status) == ("failed", 3)
    assert decide_due_resend(dt.datetime(2026, 1, 5, 20, 45), POLICY) is None


def test_timeout_after_72_hours_only_for_messages_in_flight():
    sent = dt.datetime(2026, 1, 5, 10, 0)
    assert not timed_out("sending", sent, sent + dt.timedelta(hours=71, minutes=59), 72)
    assert timed_out("sending", sent, sent + dt.timedelta(hours=72), 72)
    assert not timed_out("delivered", sent, sent + dt.timedelta(hours=100), 72)


@pytest.mark.parametrize("http, code", [(429, 20429), (500, None), (503, None), (None, None), (400, 20429)])
def test_transient_send_errors_are_retried_with_backoff(http, code):
    first = decide_send_error(http, code, 0, T)
    third = decide_send_error(http, code, 2, T)
    assert first.retry_at == T + dt.timedelta(seconds=15)
    assert third.retry_at == T + dt.timedelta(seconds=60)


def test_transient_errors_give_up_after_eight_in_a_row():
    decision = decide_send_error(503, None, 7, T)
    assert decision.retry_at is None and "送信エラー" in decision.error_message


@pytest.mark.parametrize("code, text", [(21211, "電話番号が正しくありません"), (21614, "携帯電話番号ではありません"),
                                        (21610, "受信拒否（配信停止）された番号")])
def test_permanent_send_errors_are_not_retried(code, text):
    decision = decide_send_error(400, code, 0, T)
    assert (decision.retry_at, decision.error_code, decision.error_message) == (None, code, text)


def test_pacer_spaces_sends_at_the_limit():
    now = [100.0]
    slept = []

    def sleep(seconds):
        slept.append(round(seconds, 6))
        now[0] += seconds

    pacer = Pacer(10, monotonic=lambda: now[0], sleep=sleep)
    for _ in range(5):
        pacer.wait()
    assert slept == [0.101, 0.101, 0.101, 0.101]  # 1% headroom under 10 a second
    assert round(now[0] - 100.0, 6) == 0.404


def test_pacer_off_never_sleeps():
    pacer = Pacer(0, monotonic=lambda: 0.0, sleep=lambda s: pytest.fail("slept"))
    for _ in range(3):
        pacer.wait()
