"""Report table: published calls by the hour they started, for the hour-of-day chart. Days published before it
get their hours from the calls still kept (a past day's calls are finished, so the figures are the same)."""
from peewee import AutoField, CharField, DateField, IntegerField, Model, PostgresqlDatabase


def up(migrator, db):
    class DailyHour(Model):
        id = AutoField()
        day = DateField()
        dialled = CharField(max_length=32)
        hour = IntegerField()
        calls = IntegerField(default=0)
        abandoned = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "daily_hour"
            indexes = ((("day", "dialled"), False),)

    db.create_tables([DailyHour])
    hour = ("CAST(EXTRACT(HOUR FROM started_at) AS INTEGER)" if isinstance(db, PostgresqlDatabase)
            else "CAST(strftime('%H', started_at) AS INTEGER)")
    db.execute_sql(
        "INSERT INTO daily_hour (day, dialled, hour, calls, abandoned) "
        f"SELECT DATE(started_at), COALESCE(to_number, ''), {hour}, COUNT(*), "
        "SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) FROM ivr_call "
        "WHERE DATE(started_at) IN (SELECT DISTINCT day FROM daily_stat) "
        f"GROUP BY DATE(started_at), COALESCE(to_number, ''), {hour}")
