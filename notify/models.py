"""Notification tables: the destinations staff set up, the events announced, one delivery per event and destination."""
from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from core import clock
from core.db import BaseModel

KIND_LABELS = {
    "email": "メール",
    "slack": "Slack（互換のチャットを含む）",
    "teams": "Microsoft Teams",
    "chatwork": "Chatwork",
    "webhook": "CRM など（署名付き HTTP 通知）",
}
STATE_LABELS = {
    "pending": "送信待ち",
    "claimed": "送信準備中",
    "sending": "送信中",
    "sent": "送信済み",
    "failed": "送信失敗",
    "unknown": "結果不明",
}


class Destination(BaseModel):
    """Where notifications go (通知先): a mailbox, a chat room's incoming webhook or a CRM's signed webhook."""

    class Meta:
        table_name = "notify_destination"

    id = AutoField()
    name = CharField(max_length=100)
    kind = CharField(max_length=16)
    target = TextField(default="")      # e-mail addresses (comma separated) or the URL to post to
    secret = CharField(max_length=200, default="")  # the webhook's signing key or Chatwork's API token
    events = TextField(default="")      # the event kinds it wants, comma separated
    quiet_start = CharField(max_length=5, default="")  # HH:MM; empty: no quiet hours
    quiet_end = CharField(max_length=5, default="")
    consecutive_failures = IntegerField(default=0)
    paused_at = DateTimeField(null=True)
    pause_reason = CharField(max_length=200, default="")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")

    def event_kinds(self) -> list[str]:
        return [kind for kind in self.events.split(",") if kind]

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


class Event(BaseModel):
    """Something announced through core.events (or a test from the page); its facts as JSON."""

    class Meta:
        table_name = "notify_event"

    id = AutoField()
    kind = CharField(max_length=32)
    at = DateTimeField(default=clock.now, index=True)
    facts = TextField(default="{}")  # numbers of callers and recipients among them


class Delivery(BaseModel):
    """One event to one destination. Claimed under a lease; `started_at` marks the point after which the
    message may have left, so a delivery whose worker died after it is never sent again (結果不明)."""

    class Meta:
        table_name = "notify_delivery"

    id = AutoField()
    event = ForeignKeyField(Event, on_delete="CASCADE", index=True)
    destination = ForeignKeyField(Destination, on_delete="CASCADE", index=True)
    test = BooleanField(default=False)
    state = CharField(max_length=16, default="pending")
    attempts = IntegerField(default=0)
    due_at = DateTimeField(null=True, index=True)
    claimed_by = CharField(max_length=64, default="")
    lease_until = DateTimeField(null=True)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    last_error = CharField(max_length=300, default="")
    created_at = DateTimeField(default=clock.now, index=True)

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.state, self.state)
