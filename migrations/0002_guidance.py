"""Guidance tables: voice files, original guidance and its ordered items, bulk re-synthesis jobs."""
import datetime

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class VoiceFile(Base):
        id = AutoField()
        name = CharField(max_length=100, unique=True)
        source = CharField(max_length=16, default="tts")
        text = TextField(default="")
        engine = CharField(max_length=16, default="")
        voice = CharField(max_length=64, default="")
        speed = FloatField(default=1.0)
        volume = FloatField(default=1.0)
        synth_key = CharField(max_length=64, default="", index=True)
        audio_hash = CharField(max_length=64, null=True, index=True)
        duration_ms = IntegerField(default=0)
        original_filename = CharField(max_length=200, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class Guidance(Base):
        id = AutoField()
        name = CharField(max_length=100, unique=True)
        kind = CharField(max_length=32, index=True)
        synthesized = BooleanField(default=True)
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class GuidanceItem(Base):
        id = AutoField()
        guidance = ForeignKeyField(Guidance, backref="items", on_delete="CASCADE")
        voice_file = ForeignKeyField(VoiceFile, backref="uses")
        position = IntegerField()

        class Meta:
            indexes = ((("guidance", "position"), True),)

    class ResynthJob(Base):
        id = AutoField()
        status = CharField(max_length=16, default="queued")
        voice_file_ids = TextField(default="[]")
        engine = CharField(max_length=16, default="")
        voice = CharField(max_length=64, default="")
        speed = FloatField(null=True)
        volume = FloatField(null=True)
        total = IntegerField(default=0)
        done = IntegerField(default=0)
        failed = IntegerField(default=0)
        errors = TextField(default="[]")
        created_by = CharField(max_length=64, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        heartbeat_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)

    db.create_tables([VoiceFile, Guidance, GuidanceItem, ResynthJob])
