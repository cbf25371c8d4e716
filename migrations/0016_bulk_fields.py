"""Bulk sends: 差し込み (merge fields). The send keeps the CSV's column titles that may be used as {title} in its
messages; each recipient keeps its row's values of those columns, and why its text was refused, if it was."""
from peewee import CharField, TextField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("bulk_send", "field_names", TextField(null=True)),
        migrator.add_column("bulk_recipient", "fields", TextField(null=True)),
        migrator.add_column("bulk_recipient", "problem", CharField(max_length=200, default="")),
    )
