import shutil

import pytest
from playhouse.migrations import Runner

from core.db import database
from core.migrate import MIGRATIONS_DIR, upgrade_schema
from core.models import User
from tests.support.migrations import schema_at

EXTRA_MIGRATION = '''
from peewee import IntegerField


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "shoe_size", IntegerField(default=24)))
'''


@pytest.mark.sqlite_only
def test_a_database_of_the_first_schema_is_upgraded_with_its_rows_kept(tmp_path):
    with schema_at(f"sqlite:///{tmp_path}/old.db", "0001_core"):
        # As the first schema's code wrote it (today's model has columns that table does not have yet).
        database.execute_sql('INSERT INTO "user" (username, display_name, password_hash, role, failed_logins, active, '
                             "created_at) VALUES ('veteran', '', 'x', 'admin', 0, 1, '2020-01-01 00:00:00')")
        applied = upgrade_schema()
        assert applied == sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))[1:]
        assert User.get(User.username == "veteran").role == "admin"
        assert upgrade_schema() == []  # nothing is left, and running again is harmless


@pytest.mark.sqlite_only
def test_a_column_added_by_a_later_migration_keeps_existing_rows(tmp_path):
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory, ignore=shutil.ignore_patterns("__pycache__"))
    with schema_at(f"sqlite:///{tmp_path}/grow.db", None, directory):
        User.create(username="before", password_hash="x")
        (directory / "9999_shoe_size.py").write_text(EXTRA_MIGRATION)
        assert Runner(database.obj, directory=str(directory)).up() == ["9999_shoe_size"]
        row = database.execute_sql('SELECT username, shoe_size FROM "user"').fetchall()
        assert row == [("before", 24)]


def test_schema_is_current_on_every_backend(db):
    assert upgrade_schema() == []
    assert {"user", "api_token", "audit_log", "company_holiday", "scheduler_lease"} <= set(db.get_tables())
