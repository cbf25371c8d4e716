"""Where SMS go: the built-in simulator (default, no credentials) or Twilio's Messages API.

Both answer the same three questions for the dispatcher: send this, what did you send to this
number since then (to reconcile after a crash), and (simulator only) which receipts are due.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass

from core import clock
from core.config import setting

STATUS_CALLBACK_PATH = "/twilio/sms/status"
HTTP_TIMEOUT_SECONDS = 15
log = logging.getLogger("sms.providers")


@dataclass(frozen=True)
class SendOutcome:
    sid: str | None                 # the provider's id when it accepted the message
    status: str = ""                # first status from the API response (no callback comes for it)
    http_status: int | None = None  # on error: HTTP status (None: network error)
    error_code: int | None = None   # on error: provider error code
    detail: str = ""


@dataclass(frozen=True)
class SentRecord:
    sid: str
    status: str
    body: str
    created_at: dt.datetime  # naive Tokyo time


# --- simulator --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestNumber:
    number: str
    description: str
    api_error: int | None = None      # refused at send time with this error code
    receipt: str = "delivered"        # "" = no receipt ever (times out to 0)
    receipt_error: int | None = None
    first_attempt_only: bool = False  # the failure applies to the first send only; resends are delivered


# Documented on the outbox page so staff can see every state without a phone (the rest are delivered).
SIMULATOR_TEST_NUMBERS = [
    TestNumber("09099990001", "1 回目は失敗し、システム再送で送達（失敗再送 → 送達）", receipt="failed",
               receipt_error=30003, first_attempt_only=True),
    TestNumber("09099990003", "毎回「端末の電源が入っていないか、圏外」で失敗（再送を使い切って配信失敗）",
               receipt="failed", receipt_error=30003),
    TestNumber("09099990004", "「その他エラー」（受信拒否など）で失敗", receipt="failed", receipt_error=30004),
    TestNumber("09099990005", "「現在使われていない番号」で失敗（再送しない）", receipt="undelivered",
               receipt_error=30005),
    TestNumber("09099990006", "キャリア違いで失敗（再送しない）", receipt="undelivered", receipt_error=30006),
    TestNumber("09099990008", "キャリアの不明なエラーで失敗（エラーメッセージは空欄）", receipt="undelivered",
               receipt_error=30008),
    TestNumber("09099990000", "受信通知が返らない（タイムアウトで状態不明）", receipt=""),
    TestNumber("09099990610", "送信時に拒否される（受信拒否された番号: 21610）", api_error=21610),
]
SIMULATED_RECEIPT_DELAY = dt.timedelta(seconds=3)


def _e164(national: str) -> str:
    return "+81" + national[1:]


TEST_NUMBERS_BY_E164 = {_e164(t.number): t for t in SIMULATOR_TEST_NUMBERS}


class SimulatorProvider:
    """Sends nothing: the message row is the outbox page's "sent" SMS; receipts are played back later."""

    name = "simulator"

    def send(self, to: str, body: str, attempt_seq: int = 0) -> SendOutcome:
        test = TEST_NUMBERS_BY_E164.get(to)
        if test and test.api_error:
            return SendOutcome(None, http_status=400, error_code=test.api_error, detail=test.description)
        return SendOutcome("SM" + secrets.token_hex(16), "queued")

    def planned_receipt(self, to: str, attempt_seq: int) -> tuple[str, int | None]:
        """(status, error code) the simulated carrier will report for this attempt; ("", None) for none."""
        test = TEST_NUMBERS_BY_E164.get(to)
        if test is None or (test.first_attempt_only and attempt_seq > 0):
            return "delivered", None
        return test.receipt, test.receipt_error

    def find_sent(self, to: str, body: str, since: dt.datetime) -> list[SentRecord]:
        # The simulator hands out its id in the same call that "sends": nothing can be lost in between.
        return []


# --- twilio ------------------------------------------------------------------------------------------------
class TwilioProvider:
    """The real twilio client (core.twilio.rest_client), aimed at TWILIO_API_BASE_URL."""

    name = "twilio"

    def __init__(self):
        from core.twilio import external_url, rest_client

        self.client = rest_client()
        self.client.http_client.timeout = HTTP_TIMEOUT_SECONDS
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)  # one INFO line per request otherwise
        self.sender = setting("sms.sender_id") or setting("twilio.from_number")
        self.callback = external_url(STATUS_CALLBACK_PATH)

    def send(self, to: str, body: str, attempt_seq: int = 0) -> SendOutcome:
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self.client.messages.create(to=to, from_=self.sender, body=body, status_callback=self.callback)
        except TwilioRestException as exc:
            return SendOutcome(None, http_status=exc.status, error_code=exc.code, detail=str(exc.msg)[:200])
        except (TwilioException, OSError) as exc:  # requests' connection errors are OSErrors
            log.warning("twilio send to %s failed: %s", to, exc)
            return SendOutcome(None, detail=str(exc)[:200])
        return SendOutcome(message.sid, message.status or "queued")

    def find_sent(self, to: str, body: str, since: dt.datetime) -> list[SentRecord]:
        """Messages with this body sent to `to` since `since` (newest first), to learn a crashed send's fate."""
        found = []
        for message in self.client.messages.list(to=to, limit=50):
            created = clock.from_aware(message.date_created) if message.date_created else None
            if created is not None and created >= since and message.body == body:
                found.append(SentRecord(message.sid, message.status or "", message.body, created))
        return found


def current_provider():
    """The provider of telephony.provider."""
    if setting("telephony.provider") == "twilio":
        return TwilioProvider()
    return SimulatorProvider()
