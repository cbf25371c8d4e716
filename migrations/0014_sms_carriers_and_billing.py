"""SMS delivery details (issue 14): the carrier of each message and a per-number carrier cache (Twilio Lookup,
R-29), and the monthly billing counts fixed on the first business day of the next month (R-31)."""
from peewee import AutoField, CharField, DateField, DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db

    class CarrierCache(Base):
        class Meta:
            table_name = "sms_carrier_cache"

        id = AutoField()
        number = CharField(max_length=20, unique=True)
        carrier = CharField(max_length=16)
        carrier_name = CharField(max_length=100, default="")
        network = CharField(max_length=16, default="")
        looked_up_at = DateTimeField(index=True)
        expires_at = DateTimeField(index=True)

    class BillingClose(Base):
        class Meta:
            table_name = "sms_billing_close"

        id = AutoField()
        month = DateField(unique=True)
        fixed_at = DateTimeField()
        billing = CharField(max_length=16)

    class BillingSnapshot(Base):
        class Meta:
            table_name = "sms_billing_snapshot"

        id = AutoField()
        close = ForeignKeyField(BillingClose, on_delete="CASCADE", index=True)
        box_number = IntegerField(null=True)
        total = IntegerField(default=0)
        delivered = IntegerField(default=0)
        failed = IntegerField(default=0)
        handed = IntegerField(default=0)
        billable = IntegerField(default=0)
        billable_parts = IntegerField(default=0)

    # Messages sent before the upgrade were never looked up: "" reads as 不明 and keeps the 72-hour timeout.
    migrator.migrate(migrator.add_column("sms_message", "carrier", CharField(max_length=16, default="")))
    db.create_tables([CarrierCache, BillingClose, BillingSnapshot])
