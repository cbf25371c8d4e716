"""IVR tables: flows and nodes, caller rules (blocklist and routing by caller), calls and call events."""
import datetime

from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Flow(Base):
        class Meta:
            table_name = "ivr_flow"

        id = AutoField()
        name = CharField(max_length=100)
        number = CharField(max_length=32, unique=True)
        description = TextField(default="")
        entry_key = CharField(max_length=40, default="")
        revision = CharField(max_length=32, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class Node(Base):
        class Meta:
            table_name = "ivr_node"
            indexes = ((("flow", "key"), True),)

        id = AutoField()
        flow = ForeignKeyField(Flow, on_delete="CASCADE")
        key = CharField(max_length=40)
        name = CharField(max_length=100, default="")
        kind = CharField(max_length=16)
        position = IntegerField(default=0)
        guidance_id = IntegerField(null=True)
        timeout_guidance_id = IntegerField(null=True)
        mis_entry_guidance_id = IntegerField(null=True)
        digits = IntegerField(default=1)
        timeout_seconds = IntegerField(default=5)
        max_tries = IntegerField(default=3)
        exits = TextField(default="{}")
        params = TextField(default="{}")

    class CallerRule(Base):
        class Meta:
            table_name = "ivr_caller_rule"

        id = AutoField()
        number = CharField(max_length=32, index=True)
        action = CharField(max_length=8)
        flow = ForeignKeyField(Flow, null=True, on_delete="CASCADE")
        node_key = CharField(max_length=40, default="")
        note = CharField(max_length=200, default="")
        created_at = DateTimeField(default=datetime.datetime.now)

    class Call(Base):
        class Meta:
            table_name = "ivr_call"

        id = AutoField()
        call_sid = CharField(max_length=64, unique=True)
        flow = ForeignKeyField(Flow, null=True, on_delete="SET NULL")
        from_number = CharField(max_length=32, default="")
        to_number = CharField(max_length=32, default="")
        started_at = DateTimeField(default=datetime.datetime.now, index=True)
        ended_at = DateTimeField(null=True)
        duration_seconds = IntegerField(null=True)
        outcome = CharField(max_length=16, null=True, index=True)
        last_node_key = CharField(max_length=40, default="")
        last_node_name = CharField(max_length=100, default="")
        abandoned_node_key = CharField(max_length=40, null=True)
        abandoned_node_name = CharField(max_length=100, null=True)
        status = CharField(max_length=16, default="in-progress")
        simulated = BooleanField(default=False)
        step = IntegerField(default=0)
        state = TextField(default="{}")
        last_response = TextField(default="")

    class CallEvent(Base):
        class Meta:
            table_name = "ivr_call_event"

        id = AutoField()
        call = ForeignKeyField(Call, on_delete="CASCADE")
        at = DateTimeField(default=datetime.datetime.now, index=True)
        kind = CharField(max_length=16)
        node_key = CharField(max_length=40, default="")
        node_name = CharField(max_length=100, default="")
        digits = CharField(max_length=32, default="")
        detail = TextField(default="")

    db.create_tables([Flow, Node, CallerRule, Call, CallEvent])
