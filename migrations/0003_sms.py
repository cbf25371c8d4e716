"""SMS tables: storage boxes, messages, send attempts, receipts, short links, opt-outs, ticket ledger."""
import datetime

from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model, TextField,
)


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class StorageBox(Base):
        class Meta:
            table_name = "sms_box"

        id = AutoField()
        number = IntegerField(unique=True)
        name = CharField(max_length=100)
        body = TextField(default="")
        url = CharField(max_length=1000, default="")
        created_at = DateTimeField(default=datetime.datetime.now)
        updated_at = DateTimeField(default=datetime.datetime.now)
        updated_by = CharField(max_length=64, default="")

    class Message(Base):
        class Meta:
            table_name = "sms_message"

        id = AutoField()
        created_at = DateTimeField(default=datetime.datetime.now, index=True)
        to_number = CharField(max_length=20, index=True)
        box_number = IntegerField(null=True, index=True)
        body = TextField()
        parts = IntegerField(default=1)
        status = IntegerField(default=1, index=True)
        state = CharField(max_length=16, default="queued", index=True)
        error_code = IntegerField(null=True)
        error_message = CharField(max_length=200, default="")
        resend_count = IntegerField(default=0)
        provider = CharField(max_length=16, default="")
        provider_sid = CharField(max_length=64, null=True, index=True)
        source = CharField(max_length=8, default="ui")
        call_sid = CharField(max_length=64, null=True, index=True)
        bulk_send_id = IntegerField(null=True, index=True)
        clicks = IntegerField(default=0)
        created_by = CharField(max_length=100, default="")
        idempotency_key = CharField(max_length=200, null=True, unique=True)
        optout_token = CharField(max_length=32, null=True, unique=True)
        due_at = DateTimeField(null=True, index=True)
        claimed_at = DateTimeField(null=True)
        claimed_by = CharField(max_length=64, default="")
        send_failures = IntegerField(default=0)
        sent_at = DateTimeField(null=True)
        final_at = DateTimeField(null=True)
        updated_at = DateTimeField(default=datetime.datetime.now)

    class SendAttempt(Base):
        class Meta:
            table_name = "sms_attempt"

        id = AutoField()
        message = ForeignKeyField(Message, backref="attempts", on_delete="CASCADE", index=True)
        seq = IntegerField(default=0)
        claimed_at = DateTimeField(default=datetime.datetime.now)
        claimed_by = CharField(max_length=64, default="")
        outcome = CharField(max_length=12, default="claimed")
        provider_sid = CharField(max_length=64, null=True, unique=True)
        provider_status = CharField(max_length=20, default="")
        error_code = IntegerField(null=True)
        sent_at = DateTimeField(null=True)
        finished_at = DateTimeField(null=True)
        sim_receipt_at = DateTimeField(null=True, index=True)
        sim_receipt_status = CharField(max_length=20, default="")
        sim_receipt_error = IntegerField(null=True)

    class Receipt(Base):
        class Meta:
            table_name = "sms_receipt"

        id = AutoField()
        received_at = DateTimeField(default=datetime.datetime.now)
        provider_sid = CharField(max_length=64, index=True)
        provider_status = CharField(max_length=20)
        error_code = IntegerField(null=True)
        message = ForeignKeyField(Message, backref="receipts", null=True, on_delete="CASCADE")
        applied = BooleanField(default=False)
        note = CharField(max_length=200, default="")

    class ShortLink(Base):
        class Meta:
            table_name = "sms_short_link"

        id = AutoField()
        code = CharField(max_length=16, unique=True)
        message = ForeignKeyField(Message, backref="links", null=True, on_delete="CASCADE")
        target_url = CharField(max_length=1000)
        clicks = IntegerField(default=0)
        created_at = DateTimeField(default=datetime.datetime.now)
        last_clicked_at = DateTimeField(null=True)

    class OptOut(Base):
        class Meta:
            table_name = "sms_optout"

        id = AutoField()
        number = CharField(max_length=20, unique=True)
        created_at = DateTimeField(default=datetime.datetime.now)
        via = CharField(max_length=8, default="link")
        message_id = IntegerField(null=True)
        note = CharField(max_length=200, default="")

    class TicketAccount(Base):
        class Meta:
            table_name = "sms_ticket_account"

        id = IntegerField(primary_key=True)
        balance = IntegerField(default=0)

    class TicketEntry(Base):
        class Meta:
            table_name = "sms_ticket_entry"

        id = AutoField()
        at = DateTimeField(default=datetime.datetime.now, index=True)
        delta = IntegerField()
        balance_after = IntegerField()
        reason = CharField(max_length=200, default="")
        message_id = IntegerField(null=True)
        bulk_send_id = IntegerField(null=True, index=True)
        actor = CharField(max_length=100, default="")

    db.create_tables([StorageBox, Message, SendAttempt, Receipt, ShortLink, OptOut, TicketAccount, TicketEntry])
