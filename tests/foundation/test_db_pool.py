"""The pooled PostgreSQL connections (core.db.PostgresPool): BEGIN goes with the first statement, and every
statement of a transaction still runs inside it; a rollback undoes what a cursor taken directly wrote; a
connection is reused without a round trip. On SQLite the same code paths give the same results."""
import datetime as dt

import pytest

from core.db import database, is_postgres, write_transaction
from core.models import JobRun

WHEN = dt.datetime(2026, 1, 5, 10, 0)


def test_a_rolled_back_transaction_leaves_nothing_whichever_way_it_wrote(db):
    with pytest.raises(RuntimeError), database.atomic():
        JobRun.create(job_id="through-peewee", last_run_at=WHEN)
        cursor = database.cursor()  # taken directly, after the first statement
        cursor.execute(f'INSERT INTO "job_run" ("job_id", "last_run_at", "last_result") VALUES ({database.param}, '
                       f'{database.param}, \'\')', ("through-cursor", str(WHEN)))
        raise RuntimeError("roll back")
    with pytest.raises(RuntimeError), write_transaction():
        database.cursor().execute(f'INSERT INTO "job_run" ("job_id", "last_run_at", "last_result") VALUES '
                                  f'({database.param}, {database.param}, \'\')', ("cursor-first", str(WHEN)))
        raise RuntimeError("roll back")
    assert JobRun.select().count() == 0


def test_a_transaction_begun_before_connecting_keeps_its_statements(db):
    database.close()
    with database.atomic():  # not connected yet: the transaction must not be forgotten when it connects
        JobRun.create(job_id="first", last_run_at=WHEN)
        with database.atomic():  # a savepoint
            JobRun.create(job_id="second", last_run_at=WHEN)
    assert sorted(j.job_id for j in JobRun.select()) == ["first", "second"]
    assert not database.in_transaction()


def test_an_empty_transaction_commits_nothing_and_a_connection_comes_back_from_the_pool(db):
    connection = database.connection()
    with database.atomic():
        pass
    assert not database.in_transaction()
    if is_postgres():  # no BEGIN was sent: the server sees no transaction open
        from psycopg2.extensions import TRANSACTION_STATUS_IDLE

        assert connection.info.transaction_status == TRANSACTION_STATUS_IDLE
    with database.atomic():
        JobRun.create(job_id="one", last_run_at=WHEN)
    database.close()
    database.connect()
    assert database.connection() is connection  # reused
    assert JobRun.select().count() == 1
