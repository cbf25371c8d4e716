"""The built-in SMS provider (TELEPHONY_PROVIDER=simulator): sends nothing, and plays back the receipts a
carrier would send, so staff see every delivery state without a phone or credentials.

Its state is its own: the receipt it plans for each send waits in its own table (sms_simulated_receipt) until
due, and the dispatcher collects it through the channel protocol (`due_receipts`) like any provider's.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from peewee import AutoField, CharField, DateTimeField, IntegerField

from core import clock
from core.channels import DeliveryReceipt, SendOutcome, SentRecord
from core.db import BaseModel, is_postgres, write_transaction
from core.twilio.lookups import LineType, LookupFailed

SIMULATED_RECEIPT_DELAY = dt.timedelta(seconds=3)


@dataclass(frozen=True)
class TestNumber:
    number: str
    description: str
    api_error: int | None = None      # refused at send time with this error code
    receipt: str = "delivered"        # "" = no receipt ever (times out to 0)
    receipt_error: int | None = None
    first_attempt_only: bool = False  # the failure applies to the first send only; resends are delivered
    carrier: LineType | None = None   # what the simulated carrier lookup says (None: by the last digit)


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
    TestNumber("09099990000", "受信通知が返らない（ドコモ: 72 時間後に状態不明）", receipt=""),
    TestNumber("09099990040", "受信通知が返らない（ソフトバンク: 1 時間後に状態不明）", receipt="",
               carrier=LineType("SoftBank Corp.", "440", "20", "mobile")),
    TestNumber("09099990610", "送信時に拒否される（受信拒否された番号: 21610）", api_error=21610),
]


# The simulated carrier lookup, by the number's last digit, so every carrier shows up (Twilio's spellings).
SIMULATED_CARRIERS = {
    "0": LineType("NTT DOCOMO, INC.", "440", "10", "mobile"),
    "1": LineType("NTT DOCOMO, INC.", "440", "10", "mobile"),
    "2": LineType("KDDI Corporation", "440", "51", "mobile"),
    "3": LineType("UQ Communications", "440", "51", "mobile"),
    "4": LineType("SoftBank Corp.", "440", "20", "mobile"),
    "5": LineType("Y!mobile", "440", "20", "mobile"),
    "6": LineType("Rakuten Mobile, Inc.", "440", "11", "mobile"),
    "7": LineType("LINEMO", "440", "20", "mobile"),
    "8": LineType("Japan Radio Mobile", "440", "99", "mobile"),
    "9": None,  # the lookup fails: 不明
}
CARRIER_HINT = "末尾 0・1 はドコモ、2・3 は au、4・5・7 はソフトバンク（Y!mobile・LINEMO を含む）、6 は楽天モバイル、8 はその他、9 は不明"


def _e164(national: str) -> str:
    return "+81" + national[1:]


TEST_NUMBERS_BY_E164 = {_e164(t.number): t for t in SIMULATOR_TEST_NUMBERS}


class SimulatedReceipt(BaseModel):
    """The receipt the simulated carrier will report for one accepted send, due a moment after it."""

    class Meta:
        table_name = "sms_simulated_receipt"

    id = AutoField()
    provider_sid = CharField(max_length=64, unique=True)
    due_at = DateTimeField(index=True)
    status = CharField(max_length=20)
    error_code = IntegerField(null=True)


def planned_receipt(to: str, attempt_seq: int) -> tuple[str, int | None]:
    """(status, error code) the simulated carrier will report for this attempt; ("", None) for none."""
    test = TEST_NUMBERS_BY_E164.get(to)
    if test is None or (test.first_attempt_only and attempt_seq > 0):
        return "delivered", None
    return test.receipt, test.receipt_error


class SimulatorLookup:
    """The carrier lookup of the simulator: free, deterministic by number (CARRIER_HINT)."""

    def line_type(self, number: str) -> LineType:
        test = TEST_NUMBERS_BY_E164.get(number)
        line = test.carrier if test and test.carrier else SIMULATED_CARRIERS.get(number[-1:])
        if line is None:
            raise LookupFailed("the simulated carrier does not answer for numbers ending in 9")
        return line


class SimulatorProvider:
    """Sends nothing: the message row is the outbox page's "sent" SMS; its receipt is played back when due."""

    name = "simulator"

    def send(self, to: str, body: str, attempt_seq: int = 0) -> SendOutcome:
        test = TEST_NUMBERS_BY_E164.get(to)
        if test and test.api_error:
            return SendOutcome(None, http_status=400, error_code=test.api_error, detail=test.description)
        sid = "SM" + secrets.token_hex(16)
        status, error_code = planned_receipt(to, attempt_seq)
        if status:
            due = clock.now() + SIMULATED_RECEIPT_DELAY
            SimulatedReceipt.create(provider_sid=sid, due_at=due, status=status, error_code=error_code)
        return SendOutcome(sid, "queued")

    def find_sent(self, to: str, body: str, since: dt.datetime) -> list[SentRecord]:
        # The simulator hands out its id in the same call that "sends": nothing can be lost in between.
        return []

    def due_receipts(self, now: dt.datetime) -> list[DeliveryReceipt]:
        """The planned receipts that are due, oldest first; each taken once, whichever dispatcher asks. Taken all
        together in one write transaction: a receipt deleted one by one could be lost when a later delete failed
        (a busy database), and the message would wait for its timeout instead of being delivered."""
        with write_transaction():
            query = (SimulatedReceipt.select().where(SimulatedReceipt.due_at <= now)
                     .order_by(SimulatedReceipt.due_at, SimulatedReceipt.id))
            if is_postgres():  # another dispatcher takes the rows this one does not
                query = query.for_update("FOR UPDATE SKIP LOCKED")
            planned = list(query)
            if planned:
                SimulatedReceipt.delete().where(SimulatedReceipt.id.in_([row.id for row in planned])).execute()
        return [DeliveryReceipt(row.provider_sid, row.status, row.error_code) for row in planned]
