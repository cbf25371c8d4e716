"""Notifications: destinations staff set up, the events announced to them, one delivery row per event and
destination (claimed under a lease by the worker). Recorded transfers (通話録音): one row per recording of a call."""
import datetime

from peewee import AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Destination(Base):
        class Meta:
            table_name = "notify_destination"

        id = AutoField()
        name = CharField(max_length=100)
        kind = CharField(max_length=16)
        target = TextField(default="")
        secret = CharField(max_length=200, default="")
        events = TextField(default="")
        quiet_start = CharField(max_length=5, default="")
        quiet_end = CharField(max_length=5, default="")
        consecutive_failures = IntegerField(default=0)
        paused_at = DateTimeField(null=True)
        pause_reason = CharField(max_length=200, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class Event(Base):
        class Meta:
            table_name = "notify_event"

        id = AutoField()
        kind = CharField(max_length=32)
        at = DateTimeField(default=datetime.datetime.now, index=True)
        facts = TextField(default="{}")

    class Delivery(Base):
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
        created_at = DateTimeField(default=datetime.datetime.now, index=True)

    class Call(Base):
        class Meta:
            table_name = "ivr_call"

        id = AutoField()

    class CallRecording(Base):
        class Meta:
            table_name = "ivr_call_recording"

        id = AutoField()
        call = ForeignKeyField(Call, on_delete="CASCADE", index=True)
        recording_sid = CharField(max_length=64, unique=True)
        at = DateTimeField(default=datetime.datetime.now, index=True)
        url = TextField()
        seconds = IntegerField(default=0)
        channels = IntegerField(default=1)

    db.create_tables([Destination, Event, Delivery, CallRecording])
