"""Report tables: published daily aggregates (per day and dialled number) and the refresh history."""
from peewee import AutoField, CharField, DateField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class DailyStat(Base):
        id = AutoField()
        day = DateField()
        dialled = CharField(max_length=32, default="")
        calls = IntegerField(default=0)
        completed = IntegerField(default=0)
        abandoned = IntegerField(default=0)
        transferred = IntegerField(default=0)
        voicemail = IntegerField(default=0)
        errors = IntegerField(default=0)
        duration_seconds = IntegerField(default=0)
        sms_sent = IntegerField(default=0)
        sms_delivered = IntegerField(default=0)
        sms_failed = IntegerField(default=0)
        sms_other = IntegerField(default=0)
        sms_clicked = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "dialled"), True),)

    class DailyAbandon(Base):
        id = AutoField()
        day = DateField()
        dialled = CharField(max_length=32)
        node_key = CharField(max_length=64, default="")
        node_name = CharField(max_length=200, default="")
        count = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "dialled"), False),)

    class DailyChoice(Base):
        id = AutoField()
        day = DateField()
        dialled = CharField(max_length=32)
        node_key = CharField(max_length=64, default="")
        node_name = CharField(max_length=200, default="")
        kind = CharField(max_length=16, default="digit")
        digits = CharField(max_length=32, default="")
        count = IntegerField(default=0)

        class Meta:
            indexes = ((("day", "dialled"), False),)

    class ReportRefresh(Base):
        id = AutoField()
        run_at = DateTimeField()
        scheduled_at = DateTimeField()
        cutoff = DateField()
        published_from = DateField(null=True)
        days_published = IntegerField(default=0)

    db.create_tables([DailyStat, DailyAbandon, DailyChoice, ReportRefresh])
