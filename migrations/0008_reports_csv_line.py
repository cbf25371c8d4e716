"""Report table: each published call's finished CSV line beside its path (a million-row export then reads one
text per call instead of formatting ten columns)."""
from peewee import TextField


def up(migrator, db):
    migrator.migrate(migrator.add_column("call_path", "csv_line", TextField(null=True)))
