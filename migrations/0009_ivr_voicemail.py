"""IVR table: the voicemails callers left (留守番電話), each with its recording's URL and whether staff dealt with it."""
import datetime

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
