"""Bulk sends: the send, its recipients (a slot per message) and the input left out. No foreign key to the SMS
tables: a recipient refers to its outbox rows by id, and the bulk tables can be created whatever was migrated first."""
import datetime

from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class BulkSend(Base):
        class Meta:
            table_name = "bulk_send"

        id = AutoField()
        title = CharField(max_length=100, default="")
        status = CharField(max_length=12, default="draft", index=True)
        immediate = BooleanField(default=True)
        scheduled_at = DateTimeField(null=True, index=True)
        message1 = TextField(default="")
        message2 = TextField(null=True)
        box1 = IntegerField(null=True)
        box2 = IntegerField(null=True)
        source = CharField(max_length=12, default="paste")
        source_detail = CharField(max_length=300, default="")
        via = CharField(max_length=8, default="ui")
        recipient_count = IntegerField(default=0)
        slot_count = IntegerField(default=0)
        duplicate_count = IntegerField(default=0)
        invalid_count = IntegerField(default=0)
        optout_count = IntegerField(default=0)
        broken_count = IntegerField(default=0)
        tickets_used = IntegerField(default=0)
        tickets_returned = IntegerField(default=0)
        resend_of = IntegerField(null=True, index=True)
        created_at = DateTimeField(default=datetime.datetime.now, index=True)
        created_by = CharField(max_length=100, default="")
        confirmed_at = DateTimeField(null=True)
        confirmed_by = CharField(max_length=100, default="")
        started_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        cancelled_at = DateTimeField(null=True)
        cancelled_by = CharField(max_length=100, default="")
        updated_at = DateTimeField(default=datetime.datetime.now)

    class BulkRecipient(Base):
        class Meta:
            table_name = "bulk_recipient"
            indexes = (
                (("bulk_send", "position"), True),
                (("bulk_send", "to_number"), True),
                (("bulk_send", "settled", "position"), False),
            )

        id = AutoField()
        bulk_send = ForeignKeyField(BulkSend, on_delete="CASCADE", index=True)
        position = IntegerField()
        to_number = CharField(max_length=20)
        raw = CharField(max_length=40, default="")
        line = IntegerField(null=True)
        state1 = CharField(max_length=10, default="pending")
        state2 = CharField(max_length=10, default="none")
        message1_id = IntegerField(null=True)
        message2_id = IntegerField(null=True)
        settled = BooleanField(default=False)

    class BulkSkipped(Base):
        class Meta:
            table_name = "bulk_skipped"

        id = AutoField()
        bulk_send = ForeignKeyField(BulkSend, on_delete="CASCADE", index=True)
        kind = CharField(max_length=10)
        raw = CharField(max_length=100, default="")
        line = IntegerField(null=True)
        reason = CharField(max_length=200, default="")

    db.create_tables([BulkSend, BulkRecipient, BulkSkipped])
