"""Report table: the live view's snapshot of the days not published yet (issue 17), so a live view counts only
the calls and SMS that came or changed since it (reports.live)."""
from peewee import AutoField, CharField, DateField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class LiveSnapshot(Model):
        id = AutoField()
        taken_at = DateTimeField()
        cutoff = DateField()
        last_call_id = IntegerField()
        going = TextField(default="[]")
        last_message_id = IntegerField()
        changed_since = DateTimeField()
        menus = CharField(max_length=64)
        figures = TextField(default="{}")

        class Meta:
            database = db
            table_name = "live_snapshot"

    db.create_tables([LiveSnapshot])
