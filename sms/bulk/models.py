"""Bulk-send tables: the send, its recipients (one row each, a slot per message), and what was left out.

A recipient row has one slot per message (at most two, R-42). A slot moves
`pending` → `queued` (its SMS row exists in the outbox, `messageN_id`) or → `no_ticket` / `opted_out`;
`error` (refused by the SMS rules); `none` marks a message this recipient is not to get (a resend of failures may want only the second).
The outbox row of a slot is created with the idempotency key `bulk_key(...)`, so a restart never makes two.
"""
from __future__ import annotations

import json

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from core import clock
from core.db import BaseModel

MAX_MESSAGES = 2

STATUS_LABELS = {
    "draft": "作成中",
    "scheduled": "配信予約",
    "running": "配信中",
    "completed": "配信完了",
    "cancelled": "取消",
}
EDITABLE_STATUSES = ("draft", "scheduled")
SOURCE_LABELS = {"callers": "着信履歴", "csv": "CSV ファイル", "paste": "電話番号の貼り付け", "api": "API", "resend": "配信エラーの再送"}
# The audit log in words (core.audit.describe, from sms.bulk.init_app).
AUDIT_ACTIONS = {
    "bulk.draft_created": "一括配信を作成（下書き）",
    "bulk.recipients_replaced": "一括配信の配信先を変更",
    "bulk.scheduled": "一括配信を予約",
    "bulk.confirmed": "一括配信を確定（即時配信）",
    "bulk.cancelled": "一括配信を取り消し",
    "bulk.resend_created": "配信エラーの再送を作成",
    "bulk.started": "一括配信を開始",
    "bulk.completed": "一括配信が完了",
    "bulk.test_sent": "一括配信のメッセージを自分にテスト送信",
    "tickets.added": "チケットを追加・削減",
}
AUDIT_FIELDS = {
    "recipients": "配信先の数", "messages": "メッセージの数", "tickets": "使うチケット", "scheduled_at": "配信日時",
    "was": "取り消し前の状態", "of": "元の一括配信の ID", "tickets_used": "使ったチケット",
    "no_ticket": "チケット不足で送れなかった数", "tickets_returned": "返却したチケット", "source": "配信先の指定方法",
    "count": "枚数", "balance": "残り枚数", "to": "送信先", "message_ids": "SMS の ID",
}
SLOT_PENDING, SLOT_QUEUED, SLOT_NO_TICKET, SLOT_OPTED_OUT, SLOT_NONE = "pending", "queued", "no_ticket", "opted_out", "none"
SLOT_ERROR = "error"  # the SMS rules refused the slot when it was sent (e.g. its storage box lost the URL)
SLOT_LABELS = {
    SLOT_PENDING: "送信待ち",
    SLOT_QUEUED: "送信処理済み",
    SLOT_NO_TICKET: "チケット不足",
    SLOT_OPTED_OUT: "配信停止",
    SLOT_ERROR: "送信できない内容",
    SLOT_NONE: "",
}
# The audit actions whose entries name a recipient's number: they go at the retention purge.
NUMBER_AUDIT_ACTIONS = ("bulk.test_sent",)
SKIP_KINDS = {"invalid": "携帯電話番号ではない", "duplicate": "重複", "optout": "配信停止", "broken": "読み取れない行",
              "empty": "電話番号が空"}


class BulkSend(BaseModel):
    class Meta:
        table_name = "bulk_send"

    id = AutoField()
    title = CharField(max_length=100, default="")
    status = CharField(max_length=12, default="draft", index=True)
    immediate = BooleanField(default=True)
    scheduled_at = DateTimeField(null=True, index=True)  # when the runner may start it (immediate: the confirm time)
    message1 = TextField(default="")
    message2 = TextField(null=True)
    box1 = IntegerField(null=True)
    box2 = IntegerField(null=True)
    source = CharField(max_length=12, default="paste")
    source_detail = CharField(max_length=300, default="")
    via = CharField(max_length=8, default="ui")  # ui, api
    recipient_count = IntegerField(default=0)
    slot_count = IntegerField(default=0)          # messages wanted: the tickets this send needs
    duplicate_count = IntegerField(default=0)
    invalid_count = IntegerField(default=0)
    optout_count = IntegerField(default=0)
    broken_count = IntegerField(default=0)
    tickets_used = IntegerField(default=0)        # taken from the balance when the send started
    tickets_returned = IntegerField(default=0)    # given back for slots that ended up not sent (opted out meanwhile)
    resend_of = IntegerField(null=True, index=True)
    created_at = DateTimeField(default=clock.now, index=True)
    created_by = CharField(max_length=100, default="")
    confirmed_at = DateTimeField(null=True)
    confirmed_by = CharField(max_length=100, default="")
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)        # every slot handed to the outbox (delivery may still go on)
    cancelled_at = DateTimeField(null=True)
    cancelled_by = CharField(max_length=100, default="")
    updated_at = DateTimeField(default=clock.now)
    field_names = TextField(null=True)            # JSON list: the CSV column titles usable as {title} (差し込み)

    @property
    def merge_fields(self) -> list[str]:
        return json.loads(self.field_names) if self.field_names else []

    @property
    def messages(self) -> list[str]:
        return [m for m in (self.message1, self.message2) if m]

    @property
    def boxes(self) -> list[int | None]:
        return [self.box1, self.box2][: len(self.messages)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def label(self) -> str:
        return self.title or f"一括配信 #{self.id}"


class BulkRecipient(BaseModel):
    class Meta:
        table_name = "bulk_recipient"
        indexes = (
            (("bulk_send", "position"), True),
            (("bulk_send", "to_number"), True),
            (("bulk_send", "settled", "position"), False),  # the runner's claim: unsettled rows in order
        )

    id = AutoField()
    # No index of its own: (bulk_send, position) serves (migration 0021).
    bulk_send = ForeignKeyField(BulkSend, backref="recipients", on_delete="CASCADE", index=False)
    position = IntegerField()
    to_number = CharField(max_length=20)  # E.164; unique per send: the same number is sent once
    raw = CharField(max_length=40, default="")
    line = IntegerField(null=True)
    state1 = CharField(max_length=10, default=SLOT_PENDING)
    state2 = CharField(max_length=10, default=SLOT_NONE)
    message1_id = IntegerField(null=True)
    message2_id = IntegerField(null=True)
    settled = BooleanField(default=False)  # no slot pending any more
    fields = TextField(null=True)          # JSON list: this row's values of the send's field_names (差し込み)
    problem = CharField(max_length=200, default="")  # why its text was refused (a name ISO-2022-JP cannot carry…)

    @property
    def field_values(self) -> list[str]:
        return json.loads(self.fields) if self.fields else []

    def slot_state(self, index: int) -> str:
        return self.state1 if index == 0 else self.state2

    def message_id(self, index: int) -> int | None:
        return self.message1_id if index == 0 else self.message2_id


class BulkSkipped(BaseModel):
    """Input left out of a send, with why: not mobile, duplicate, opted out, unreadable CSV row, empty cell."""

    class Meta:
        table_name = "bulk_skipped"

    id = AutoField()
    bulk_send = ForeignKeyField(BulkSend, backref="skipped", on_delete="CASCADE", index=True)
    kind = CharField(max_length=10)
    raw = CharField(max_length=100, default="")
    line = IntegerField(null=True)
    reason = CharField(max_length=200, default="")

    @property
    def kind_label(self) -> str:
        return SKIP_KINDS.get(self.kind, self.kind)


def bulk_key(send_id: int, recipient_id: int, index: int) -> str:
    """The outbox idempotency key of one slot: one SMS row per recipient and message, whatever restarts."""
    return f"bulk:{send_id}:{recipient_id}:{index + 1}"
