"""IVR table: the voicemails callers left (留守番電話), each with its recording's URL and whether staff dealt with it.
Voicemails recorded before this table existed are taken from their call events ("録音 N 秒: URL")."""
import datetime
import re

from peewee import AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Call(Base):
        class Meta:
            table_name = "ivr_call"

        id = AutoField()

    class CallEvent(Base):
        class Meta:
            table_name = "ivr_call_event"

        id = AutoField()
        call = ForeignKeyField(Call)
        at = DateTimeField()
        kind = CharField(max_length=16)
        node_name = CharField(max_length=100, default="")
        detail = TextField(default="")

    class Voicemail(Base):
        class Meta:
            table_name = "ivr_voicemail"

        id = AutoField()
        call = ForeignKeyField(Call, on_delete="CASCADE", unique=True)
        at = DateTimeField(default=datetime.datetime.now, index=True)
        node_name = CharField(max_length=100, default="")
        url = TextField()
        seconds = IntegerField(default=0)
        handled_at = DateTimeField(null=True)
        handled_by = CharField(max_length=64, default="")

    db.create_tables([Voicemail])
    recorded = re.compile(r"録音 (\d+) 秒: (\S+)")
    taken = set()
    for event in CallEvent.select().where(CallEvent.kind == "voicemail").order_by(CallEvent.id):
        match = recorded.fullmatch(event.detail)
        if match and event.call_id not in taken:
            taken.add(event.call_id)
            Voicemail.create(call=event.call_id, at=event.at, node_name=event.node_name, url=match[2],
                             seconds=int(match[1]))
