"""Core: a session version per account (raising it ends every session of that account) and failed logins per
client address (the login throttle, shared by every web process)."""
from peewee import CharField, DateTimeField, IntegerField, Model


def up(migrator, db):
    class Base(Model):
        class Meta:
            database = db
            legacy_table_names = False

    class LoginThrottle(Base):
        client = CharField(max_length=64, primary_key=True)
        window_start = DateTimeField(index=True)
        attempts = IntegerField(default=0)

    migrator.migrate(migrator.add_column("user", "session_version", IntegerField(default=0)))
    db.create_tables([LoginThrottle])
