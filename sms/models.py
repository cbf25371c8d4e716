"""SMS tables: storage boxes, messages (the outbox and the delivery log are the same rows), attempts,
receipts, short links, opt-outs and the ticket ledger.

`Message` is read by reports and bulk (docs/ARCHITECTURE.md fixes its fields).
"""
from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from core import clock
from core.db import BaseModel

# API status codes and UI states.
STATUS_UNKNOWN, STATUS_SENDING, STATUS_DELIVERED, STATUS_FAILED = 0, 1, 2, 3
STATUS_LABELS = {0: "状態不明", 1: "配信中", 2: "送達", 3: "配信失敗"}
STATE_LABELS = {
    "queued": "送信待ち",
    "sending": "配信中",
    "resend_wait": "失敗再送",
    "delivered": "送達",
    "failed": "配信失敗",
    "unknown": "状態不明",
}
FINAL_STATES = ("delivered", "failed", "unknown")
SOURCE_LABELS = {"ivr": "IVR", "api": "API", "bulk": "一括配信", "ui": "管理画面"}
MAX_BOX_NUMBER = 9999  # storage box numbers are 1-9999
# What the provider said about one hand-over (a receipt or a send's answer), as the message page shows it.
PROVIDER_STATUS_LABELS = {
    "accepted": "受付",
    "scheduled": "送信予約",
    "queued": "送信待ち",
    "sending": "送信中",
    "sent": "送信済み（結果待ち）",
    "delivered": "送達",
    "read": "既読",
    "undelivered": "不達",
    "failed": "送信失敗",
    "canceled": "取り消し",
    "partially_delivered": "一部送達",
}
ATTEMPT_OUTCOME_LABELS = {"claimed": "送信中", "sent": "受付済み", "error": "エラー", "lost": "未送信（再送信）"}
OPTOUT_VIA_LABELS = {"link": "SMS の配信停止リンク", "admin": "管理画面"}
# The audit log in words (core.audit.describe, from sms.init_app).
AUDIT_ACTIONS = {
    "box.created": "蓄積BOX を作成",
    "box.updated": "蓄積BOX を変更",
    "box.test_sent": "蓄積BOX をテスト送信",
    "sms.individual_sent": "SMS を個別送信",
    "optout.added": "配信停止に登録",
    "optout.removed": "配信停止を解除",
}
AUDIT_FIELDS = {"body": "メッセージ内容", "url": "URL", "to": "送信先", "message_id": "SMS の ID",
                "was_via": "登録の経路", "box": "蓄積BOX番号", "from_message_id": "元の SMS の ID"}


def provider_status_label(status: str | None) -> str:
    """Japanese for a provider status ("delivered" → 送達); blank for none, plain words for an unknown one."""
    if not status:
        return ""
    return PROVIDER_STATUS_LABELS.get(status.strip().lower(), "その他の通知")


class StorageBox(BaseModel):
    """蓄積BOX: number and name are fixed at creation (004); text and URL may change."""

    class Meta:
        table_name = "sms_box"

    id = AutoField()
    number = IntegerField(unique=True)
    name = CharField(max_length=100)
    body = TextField(default="")
    url = CharField(max_length=1000, default="")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")

    @property
    def label(self) -> str:
        return f"{self.number}: {self.name}"


class Message(BaseModel):
    """One SMS to one number: a row first (the outbox), then its delivery record (the log)."""

    class Meta:
        table_name = "sms_message"
        # Every index is written with every row (a bulk send writes thousands a second): only columns searched by
        # have one. Not status, to_number, provider_sid (migration 0021 says why).

    id = AutoField()
    created_at = DateTimeField(default=clock.now, index=True)
    to_number = CharField(max_length=20)                      # E.164
    box_number = IntegerField(null=True, index=True)           # null for free text
    body = TextField()                                         # exactly what is (or was) sent
    parts = IntegerField(default=1)
    status = IntegerField(default=STATUS_SENDING)              # API 0-3
    state = CharField(max_length=16, default="queued", index=True)
    error_code = IntegerField(null=True)
    error_message = CharField(max_length=200, default="")
    resend_count = IntegerField(default=0)
    provider = CharField(max_length=16, default="")
    provider_sid = CharField(max_length=64, null=True)
    source = CharField(max_length=8, default="ui")
    call_sid = CharField(max_length=64, null=True)             # indexed where not null (migration 0021)
    bulk_send_id = IntegerField(null=True, index=True)
    clicks = IntegerField(default=0)
    carrier = CharField(max_length=16, default="")             # sms.carriers key; "" = not looked up (不明)
    created_by = CharField(max_length=100, default="")
    idempotency_key = CharField(max_length=200, null=True, unique=True)
    optout_token = CharField(max_length=32, null=True, unique=True)
    # Dispatch bookkeeping: when the next send is due (null: nothing to send), who holds it.
    due_at = DateTimeField(null=True, index=True)
    claimed_at = DateTimeField(null=True)
    claimed_by = CharField(max_length=64, default="")
    send_failures = IntegerField(default=0)                    # transient provider errors in a row
    sent_at = DateTimeField(null=True)                         # last accepted by the provider
    final_at = DateTimeField(null=True)
    updated_at = DateTimeField(default=clock.now)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, str(self.status))


class SendAttempt(BaseModel):
    """One hand-over to the provider: the first send (seq 0) or a system resend (seq n).

    Written when the row is claimed, before the provider is called, so a crash in between leaves an
    attempt with no provider id: the next claim asks the provider before sending again.
    """

    class Meta:
        table_name = "sms_attempt"

    id = AutoField()
    message = ForeignKeyField(Message, backref="attempts", on_delete="CASCADE", index=True)
    seq = IntegerField(default=0)
    claimed_at = DateTimeField(default=clock.now)
    claimed_by = CharField(max_length=64, default="")
    outcome = CharField(max_length=12, default="claimed")  # claimed, sent, error, lost
    provider_sid = CharField(max_length=64, null=True, unique=True)
    provider_status = CharField(max_length=20, default="")
    error_code = IntegerField(null=True)
    sent_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)

    @property
    def outcome_label(self) -> str:
        return ATTEMPT_OUTCOME_LABELS.get(self.outcome, self.outcome)

    @property
    def provider_status_label(self) -> str:
        return provider_status_label(self.provider_status)


class Receipt(BaseModel):
    """Every delivery receipt as it came (duplicates and late ones included), for the message's history."""

    class Meta:
        table_name = "sms_receipt"

    id = AutoField()
    received_at = DateTimeField(default=clock.now)  # indexed where message is null (migration 0023): the purge
    provider_sid = CharField(max_length=64, index=True)
    provider_status = CharField(max_length=20)
    error_code = IntegerField(null=True)
    message = ForeignKeyField(Message, backref="receipts", null=True, on_delete="CASCADE")
    applied = BooleanField(default=False)
    note = CharField(max_length=200, default="")

    @property
    def provider_status_label(self) -> str:
        return provider_status_label(self.provider_status)


class ShortLink(BaseModel):
    """/s/<code>: the box URL as sent to one message, clicks counted (R-25)."""

    class Meta:
        table_name = "sms_short_link"

    id = AutoField()
    code = CharField(max_length=16, unique=True)
    message = ForeignKeyField(Message, backref="links", null=True, on_delete="CASCADE")
    target_url = CharField(max_length=1000)
    clicks = IntegerField(default=0)
    created_at = DateTimeField(default=clock.now)
    last_clicked_at = DateTimeField(null=True)


class OptOut(BaseModel):
    """A number that asked not to receive SMS any more (R-24): never sent to again."""

    class Meta:
        table_name = "sms_optout"

    id = AutoField()
    number = CharField(max_length=20, unique=True)  # E.164
    created_at = DateTimeField(default=clock.now)
    via = CharField(max_length=8, default="link")   # link, admin
    message_id = IntegerField(null=True)
    note = CharField(max_length=200, default="")


class TicketAccount(BaseModel):
    """The ticket balance, one row; consumed with a conditional UPDATE so two senders never overdraw it."""

    class Meta:
        table_name = "sms_ticket_account"

    id = IntegerField(primary_key=True)
    balance = IntegerField(default=0)


class TicketEntry(BaseModel):
    """The ticket ledger: every top-up (+) and use (−)."""

    class Meta:
        table_name = "sms_ticket_entry"

    id = AutoField()
    at = DateTimeField(default=clock.now, index=True)
    delta = IntegerField()
    balance_after = IntegerField()
    reason = CharField(max_length=200, default="")
    message_id = IntegerField(null=True)
    bulk_send_id = IntegerField(null=True, index=True)
    actor = CharField(max_length=100, default="")


class CarrierCache(BaseModel):
    """What Twilio Lookup said about a number's carrier (R-29), asked once and kept until `expires_at`
    (numbers move between carriers). Holds phone numbers: purged with the messages (sms.retention)."""

    class Meta:
        table_name = "sms_carrier_cache"

    id = AutoField()
    number = CharField(max_length=20, unique=True)   # E.164
    carrier = CharField(max_length=16)               # sms.carriers key
    carrier_name = CharField(max_length=100, default="")
    network = CharField(max_length=16, default="")    # MCC-MNC, e.g. 440-10
    looked_up_at = DateTimeField(default=clock.now, index=True)
    expires_at = DateTimeField(index=True)


class BillingClose(BaseModel):
    """A month whose billable counts were fixed (確定) on the first business day of the next month (R-31)."""

    class Meta:
        table_name = "sms_billing_close"

    id = AutoField()
    month = DateField(unique=True)                    # the first day of the month
    fixed_at = DateTimeField(default=clock.now)
    billing = CharField(max_length=16)                # sms.billing as it was when fixed


class BillingSnapshot(BaseModel):
    """One storage box's counts of a fixed month (box_number null: free-text sends)."""

    class Meta:
        table_name = "sms_billing_snapshot"

    id = AutoField()
    close = ForeignKeyField(BillingClose, backref="rows", on_delete="CASCADE", index=True)
    box_number = IntegerField(null=True)
    total = IntegerField(default=0)
    delivered = IntegerField(default=0)
    failed = IntegerField(default=0)
    handed = IntegerField(default=0)
    billable = IntegerField(default=0)
    billable_parts = IntegerField(default=0)
