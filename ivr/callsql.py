"""The few statements every Gather webhook runs, as plain SQL made once per database.

Building a peewee query costs several times what SQLite or PostgreSQL take to run it, and the voice
webhook runs the same few statements on every key press (R-07: answer fast). Their SQL is written
here once, with the bound database's placeholder; only the values change. Everything else in ivr
uses the models.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.db import database, execute_prepared, is_postgres, write_transaction
from ivr.models import Call, CallEvent, Flow

EVENT_COLUMNS = '"call_id", "at", "kind", "node_key", "node_name", "digits", "detail"'
EVENT_VALUES = "(" + ", ".join(["?"] * 7) + ")"
_STATEMENTS: dict[type, dict[str, str]] = {}  # database class → template → SQL with its placeholder


@dataclass(frozen=True)
class LiveCall:
    """What the webhook needs of a call row (and of its flow: the revision the cached spec must match)."""

    id: int
    call_sid: str
    step: int
    state: str
    flow_id: int | None
    last_response: str
    revision: str | None
    flow_version_id: int | None  # the version the call started on (None: a call from before versions)
    started_at: dt.datetime


def _table(model) -> str:
    return f'"{model._meta.table_name}"'


def _sql(template: str) -> str:
    """`template` with `?` replaced by the bound database's placeholder (SQLite `?`, psycopg2 `%s`)."""
    cache = _STATEMENTS.setdefault(type(database.obj), {})
    sql = cache.get(template)
    if sql is None:
        sql = cache[template] = template.replace("?", database.obj.param)
    return sql


SELECT_CALL = (f'SELECT c."id", c."call_sid", c."step", c."state", c."flow_id", c."last_response", f."revision", '
               f'c."flow_version_id", c."started_at" '
               f'FROM {_table(Call)} AS c LEFT OUTER JOIN {_table(Flow)} AS f ON f."id" = c."flow_id" '
               f'WHERE c."call_sid" = ?')
STORE_STEP = (f'UPDATE {_table(Call)} SET "step" = ?, "state" = ?, "last_response" = ?, "outcome" = ?, '
              f'"last_node_key" = COALESCE(?, "last_node_key"), "last_node_name" = COALESCE(?, "last_node_name"), '
              f'"timeline" = ? '
              f'WHERE "id" = ?')


def fetch_call(call_sid: str, for_update: bool = False) -> LiveCall | None:
    """The call; `for_update` inside a write_transaction keeps other copies of the request off it until commit
    (PostgreSQL locks the row; SQLite's writer already excludes every other)."""
    template = SELECT_CALL + (' FOR UPDATE OF c' if for_update and is_postgres() else '')
    row = database.execute_sql(_sql(template), (call_sid,)).fetchone()
    if not row:
        return None
    started = row[-1]
    if not isinstance(started, dt.datetime):  # SQLite gives the text it stored (isoformat), PostgreSQL a datetime
        started = dt.datetime.fromisoformat(started)
    return LiveCall(*row[:-1], started)


# The transaction's commit returns before PostgreSQL has flushed it to disk: the same promise as SQLite's
# synchronous=normal in WAL mode (core.db): a crash of the database server may lose the last fraction of a second
# of steps (a caller then hears the previous prompt again), never corrupt anything. It saves the commit's fsync,
# most of a Gather webhook's time on PostgreSQL. Steps that queue an SMS or keep a recording stay durable.
RELAXED_COMMIT = "SET LOCAL synchronous_commit TO OFF"


def store_step(call_id: int, *, step: int, state: str, last_response: str, outcome: str | None,
               last_node_key: str | None, last_node_name: str | None, timeline: str, at: dt.datetime,
               events: list, durable: bool = True, last: bool = False) -> None:
    """The call's next step, state, answer and its timeline (ivr.timeline; the last node stays as it was when None
    is given) and the step's CallEvent rows. On PostgreSQL all in one round trip (statements joined), with the
    transaction's COMMIT when these are its `last` statements; `durable=False`: see RELAXED_COMMIT."""
    statements = [(STORE_STEP, [step, state, last_response, outcome, last_node_key, last_node_name, timeline,
                                call_id])]
    if events:
        statements.append(_insert_events(call_id, at, events))
    if not is_postgres():
        for template, values in statements:
            database.execute_sql(_sql(template), values)
        return
    if not durable:
        statements.insert(0, (RELAXED_COMMIT, []))
    sql = ";".join(_sql(template) for template, _ in statements)
    values = [value for _, values in statements for value in values]
    if not (last and database.obj.execute_and_commit(sql, values)):
        database.execute_sql(sql, values)


# The UPDATE of store_step, applied only while the row still holds what the caller of store_step_if_unchanged saw;
# on PostgreSQL with the step's events (arrays, so that one prepared statement serves any number of them, inserted
# in their order) and the number of rows it changed.
UNCHANGED = ' AND "step" = ? AND "state" = ? AND "flow_id" = ? AND "flow_version_id" = ?'
STEP_IF_UNCHANGED = (
    # First parameter: relax the commit (RELAXED_COMMIT) of the transaction the server runs the statement as; a
    # caller's own transaction keeps whatever it chose. Inside the statement: no statement more to parse and plan.
    "WITH relaxed AS (SELECT set_config('synchronous_commit', "
    "CASE WHEN ?::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true)), "
    f'claimed AS ({STORE_STEP}{UNCHANGED} RETURNING "id"), '
    f'added AS (INSERT INTO {_table(CallEvent)} ({EVENT_COLUMNS}) '
    f'SELECT claimed."id", ?::timestamp, e."kind", e."node_key", e."node_name", e."digits", e."detail" FROM claimed, '
    f'unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[]) WITH ORDINALITY '
    f'AS e ("kind", "node_key", "node_name", "digits", "detail", "n") ORDER BY e."n") '
    f'SELECT count(*) FROM claimed, relaxed')


def store_step_if_unchanged(call_id: int, seen: tuple[int, str, int, int], *, step: int, state: str,
                            last_response: str, outcome: str | None, last_node_key: str | None,
                            last_node_name: str | None, timeline: str, at: dt.datetime, events: list) -> bool:
    """store_step for a step worked out without holding the row: written only while the row still holds `seen`
    (step, state, flow_id, flow_version_id: all a step is worked out from), with the step's events; False, and
    nothing written, when it does not. Its own transaction, with a relaxed commit (RELAXED_COMMIT: the step queues
    no SMS and keeps no recording). On PostgreSQL one prepared statement sent alone, which the server runs as one
    transaction and commits: one round trip; two copies of a request wait for the row's lock, and the second
    finds the step taken."""
    values = [step, state, last_response, outcome, last_node_key, last_node_name, timeline, call_id, *seen]
    if not is_postgres():
        with write_transaction():
            if database.execute_sql(_sql(STORE_STEP + UNCHANGED), values).rowcount != 1:
                return False
            insert_events(call_id, at, events)
        return True
    values += [CallEvent.at.db_value(at), [e.kind for e in events], [e.node_key[:40] for e in events],
               [e.node_name[:100] for e in events], [e.digits[:32] for e in events], [e.detail for e in events]]
    relaxed = not database.in_transaction()  # else the caller's transaction commits it, as it chose
    cursor = execute_prepared("ivr_step_if_unchanged", _sql(STEP_IF_UNCHANGED), [relaxed, *values])
    return cursor.fetchone()[0] == 1


def insert_events(call_id: int, at: dt.datetime, events: list) -> None:
    """CallEvent rows, one statement for all of them."""
    if events:
        template, values = _insert_events(call_id, at, events)
        database.execute_sql(_sql(template), values)


def _insert_events(call_id: int, at: dt.datetime, events: list) -> tuple[str, list]:
    template = f'INSERT INTO {_table(CallEvent)} ({EVENT_COLUMNS}) VALUES {", ".join([EVENT_VALUES] * len(events))}'
    when = CallEvent.at.db_value(at)
    values = []
    for e in events:
        values += [call_id, when, e.kind, e.node_key[:40], e.node_name[:100], e.digits[:32], e.detail]
    return template, values
