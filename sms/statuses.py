"""Pure delivery-status decisions (R-26..R-29): provider status → API code, error messages, what a receipt
does to a message, when to resend, when to give up. No Flask, no database: plain values in, a decision out.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sms.models import FINAL_STATES, STATUS_DELIVERED, STATUS_FAILED, STATUS_SENDING, STATUS_UNKNOWN

# Twilio's message statuses → the API's codes.
PROVIDER_STATUS_CODES = {
    "accepted": STATUS_SENDING, "scheduled": STATUS_SENDING, "queued": STATUS_SENDING,
    "sending": STATUS_SENDING, "sent": STATUS_SENDING,
    "delivered": STATUS_DELIVERED, "read": STATUS_DELIVERED,
    "undelivered": STATUS_FAILED, "failed": STATUS_FAILED, "canceled": STATUS_FAILED,
}

# Japanese messages per provider error code. An unknown carrier error leaves the message blank (000).
ERROR_MESSAGES = {
    21211: "電話番号が正しくありません",
    21408: "送信先の地域への送信が許可されていません",
    21610: "受信拒否（配信停止）された番号",
    21612: "送信できない番号の組み合わせです",
    21614: "携帯電話番号ではありません",
    30001: "送信待ちが多すぎるため送信できませんでした",
    30002: "送信元アカウントが停止されています",
    30003: "端末の電源が入っていないか、圏外です",
    30004: "その他エラー",  # refused by the handset (000: 受信拒否・料金未納・端末側の原因)
    30005: "現在使われていない番号",
    30006: "キャリア違い（固定電話または SMS を受信できない回線）",
    30007: "その他エラー",  # filtered by the carrier
    30008: "",             # Twilio's "unknown error": the carrier gave no defined reason
}
SEND_ERROR_MESSAGE = "送信エラー（送信事業者に接続できませんでした）"
REFUSED_BY_PROVIDER = "送信事業者に受け付けられませんでした"

# Failures after which a resend cannot help: the number is wrong, gone, not mobile, unsubscribed,
# or the receipt says "wrong carrier" (000: システム再送はキャリア違いを示す DLR でない場合に行われます).
PERMANENT_ERRORS = frozenset({21211, 21408, 21610, 21612, 21614, 30005, 30006})
TRANSIENT_ERRORS = frozenset({20429, 20500, 20503, 30001})

BACKOFF_BASE_SECONDS = 15
BACKOFF_MAX_SECONDS = 15 * 60
MAX_SEND_FAILURES = 8  # transient errors in a row before the message is given up as failed


def api_status(provider_status: str | None) -> int | None:
    """The API code (0-3) of a provider status; None for a status we do not know."""
    return PROVIDER_STATUS_CODES.get((provider_status or "").strip().lower())


def error_message(code: int | None) -> str:
    """Japanese text for a provider error code; blank for codes no one defined (000)."""
    if code is None:
        return ""
    return ERROR_MESSAGES.get(code, "")


def is_resendable(code: int | None) -> bool:
    return code not in PERMANENT_ERRORS


# --- resend policy ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResendPolicy:
    count: int
    interval: dt.timedelta
    window: tuple[dt.time, dt.time] | None  # no resends from [0] until [1] (may wrap midnight)

    @classmethod
    def from_settings(cls, count: int, interval_minutes: int, window: str) -> ResendPolicy:
        return cls(count, dt.timedelta(minutes=interval_minutes), parse_window(window))


WINDOW_PATTERN = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_window(text: str | None) -> tuple[dt.time, dt.time] | None:
    """'21:00-09:00' → (21:00, 09:00); empty → None. Raises ValueError on anything else."""
    if not text or not text.strip():
        return None
    match = WINDOW_PATTERN.match(text)
    if not match:
        raise ValueError(f"no-resend window must look like 21:00-09:00, not {text!r}")
    h1, m1, h2, m2 = (int(x) for x in match.groups())
    return dt.time(h1, m1), dt.time(h2, m2)


def in_window(moment: dt.datetime, window: tuple[dt.time, dt.time] | None) -> bool:
    """Whether `moment` falls in the no-resend window (start inclusive, end exclusive)."""
    if window is None:
        return False
    start, end = window
    t = moment.time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


# --- receipts -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    state: str
    status: int
    error_code: int | None = None
    error_message: str = ""
    resend_at: dt.datetime | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


def decide_receipt(state: str, resend_count: int, provider_status: str, error_code: int | None,
                   now: dt.datetime, policy: ResendPolicy) -> Decision | None:
    """What a receipt for the message's current attempt does; None: nothing (a final status never goes back)."""
    if state in FINAL_STATES:
        return None
    code = api_status(provider_status)
    if code is None:
        return None
    if code == STATUS_DELIVERED:
        return Decision("delivered", STATUS_DELIVERED)
    if code == STATUS_SENDING:
        # A late "sent" after a failure (out of order) must not undo the planned resend.
        return None if state == "resend_wait" else Decision("sending", STATUS_SENDING)
    if state == "resend_wait":
        return None  # a duplicate failure for the attempt already judged
    message = error_message(error_code)
    if is_resendable(error_code) and resend_count < policy.count:
        # Between a failure and the next try the UI shows 失敗再送 while the API still shows 1 (000).
        return Decision("resend_wait", STATUS_SENDING, error_code, message, now + policy.interval)
    return Decision("failed", STATUS_FAILED, error_code, message)


def decide_due_resend(now: dt.datetime, policy: ResendPolicy) -> Decision | None:
    """A resend that is due now: None to send it, or the final failure when `now` is in the no-resend window."""
    if in_window(now, policy.window):
        return Decision("failed", STATUS_FAILED)
    return None


@dataclass(frozen=True)
class TimeoutPolicy:
    """R-29: hours without a receipt before a message is final with status 0; SoftBank gives up after 1 hour
    (its network sends no receipt later), every other or unknown carrier after 72."""

    default_hours: int
    softbank_hours: int

    def hours_for(self, carrier: str | None) -> int:
        return self.softbank_hours if carrier == "softbank" else self.default_hours


def timed_out(state: str, sent_at: dt.datetime | None, now: dt.datetime, hours: int) -> bool:
    """A message sent but with no final receipt for `hours` is final with status 0 (R-29)."""
    return state == "sending" and sent_at is not None and now - sent_at >= dt.timedelta(hours=hours)


TIMEOUT_DECISION = Decision("unknown", STATUS_UNKNOWN)


# --- send errors --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendErrorDecision:
    retry_at: dt.datetime | None  # None: give up, the message is failed
    error_code: int | None
    error_message: str


def is_transient(http_status: int | None, code: int | None) -> bool:
    """Network errors (no HTTP status), HTTP 429 and 5xx, and Twilio's rate/queue codes are worth retrying."""
    if code in TRANSIENT_ERRORS:
        return True
    if code in PERMANENT_ERRORS:
        return False
    return http_status is None or http_status == 429 or http_status >= 500


def decide_send_error(http_status: int | None, code: int | None, failures_so_far: int,
                      now: dt.datetime) -> SendErrorDecision:
    """Retry a transient error with exponential backoff; give up on a permanent one or after too many."""
    if is_transient(http_status, code) and failures_so_far + 1 < MAX_SEND_FAILURES:
        delay = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** failures_so_far)
        return SendErrorDecision(now + dt.timedelta(seconds=delay), code, "")
    if is_transient(http_status, code):
        return SendErrorDecision(None, code, SEND_ERROR_MESSAGE)
    return SendErrorDecision(None, code, error_message(code) or REFUSED_BY_PROVIDER)
