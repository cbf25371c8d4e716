"""Report table: each published call's path, so the call-detail CSV need not read every event again."""
from peewee import AutoField, ForeignKeyField, Model, TextField


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class Call(Base):
        class Meta:
            table_name = "ivr_call"

        id = AutoField()

    class CallPath(Base):
        class Meta:
            table_name = "call_path"

        call = ForeignKeyField(Call, primary_key=True, on_delete="CASCADE")
        path = TextField(default="")

    db.create_tables([CallPath])
