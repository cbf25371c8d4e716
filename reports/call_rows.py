"""The call-detail CSV rows, formatted by the database and read in keyset chunks of raw tuples.

Why SQL: for a million calls, formatting each row in Python and reading each call's events cost
many times what csv.writer itself costs. Here the database gives the finished values (timestamps
to the second, Japanese outcome labels) and each call's path, built from its events; a published
call's whole CSV line is stored (CallPath), written once by core.csvfile's LineWriter, which guards
the cells against Excel (bench/bench_reports.py). The page shows paths with
`reports.summary.path_steps`; the tests hold the SQL twins below to the Python originals.
"""
from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from operator import itemgetter

from peewee import JOIN, Case, Select, Value, fn

from core import phone
from core.csvfile import LineWriter
from core.db import database, insert_rows, is_postgres
from ivr.public import Call, CallEvent
from reports import queries
from reports.models import CallPath
from reports.queries import CallFilter
from reports.summary import EVENT_LABELS, OUTCOME_LABELS, PART_LABELS, PATH_SEPARATOR


def text(expr):
    return fn.COALESCE(expr, "")


def timestamp_text(field):
    """YYYY-MM-DD HH:MM:SS (core.csvfile.format_datetime); SQLite keeps timestamps as text."""
    if is_postgres():
        return fn.TO_CHAR(field, "YYYY-MM-DD HH24:MI:SS")
    return fn.SUBSTR(field, 1, 19)


def outcome_text():
    labelled = [(outcome, label) for outcome, label in OUTCOME_LABELS.items() if outcome]
    return Case(Call.outcome, labelled, fn.COALESCE(Call.outcome, OUTCOME_LABELS[None]))


def part_text():
    """What was playing when an abandoning caller hung up, in words (ivr's PART_LABELS)."""
    return Case(Call.abandoned_part, list(PART_LABELS.items()), text(Call.abandoned_part))


def event_label(event=CallEvent):
    """SQL twin of summary.path_steps for one event."""
    digits = text(event.digits)
    other = Case(event.kind, list(EVENT_LABELS.items()), event.kind)
    return Case(None, [
        (event.kind == "node", fn.COALESCE(fn.NULLIF(event.node_name, ""), fn.NULLIF(event.node_key, ""), "?")),
        (event.kind == "digit", Case(None, [(digits != "", Value("[").concat(digits).concat("]"))], "[空]")),
        ((event.kind == "mis_entry") & (digits != ""),
         Value(EVENT_LABELS["mis_entry"] + "[").concat(digits).concat("]")),
        ((event.kind == "speech") & (digits != ""), Value(EVENT_LABELS["speech"] + "[").concat(digits).concat("]")),
    ], other)


def path_text_sql():
    """A correlated subquery: the path of the outer query's call from its events in order."""
    event = CallEvent.alias("path_event")
    if is_postgres():
        joined = fn.STRING_AGG(event_label(event), PATH_SEPARATOR).order_by(event.at, event.id)
        return event.select(text(joined)).where(event.call == Call.id)
    # SQLite (3.40) has no ORDER BY inside group_concat; it aggregates an ordered subquery in its order.
    ordered = (event.select(event_label(event).alias("label")).where(event.call == Call.id)
               .order_by(event.at, event.id))
    return Select([ordered], [text(fn.GROUP_CONCAT(ordered.c.label, PATH_SEPARATOR))])


PATH_COLUMN = 10  # where the path stands in CALL_HEADER
NUMBER_COLUMNS = (2, 3)  # caller and dialled number: written as every page shows them (090-1234-5678)


@lru_cache(maxsize=65_536)  # a day's calls come from far fewer numbers than calls
def _shown(number: str | None) -> str:
    return phone.display(number)


def csv_row(row) -> list:
    """A call's CSV_COLUMNS values as the file carries them: numbers national and hyphenated, which Excel keeps
    as text (E.164 +819012345678 became 8.19E+11)."""
    out = list(row)
    for column in NUMBER_COLUMNS:
        out[column] = _shown(out[column])
    return out


def csv_columns(path=None) -> list:
    """CALL_HEADER's columns as SQL expressions. The path is a published call's stored one, else one made from its
    events (the query then joins CallPath); `path` replaces that expression."""
    return [
        timestamp_text(Call.started_at), timestamp_text(Call.ended_at), Call.from_number, Call.to_number,
        Call.duration_seconds, outcome_text(), Call.last_node_name, Call.abandoned_node_name, part_text(),
        Call.abandoned_guidance_name,
        path if path is not None else fn.COALESCE(CallPath.path, path_text_sql()),
        Call.call_sid,
    ]


# Stand-ins for the keyset values: each chunk's SQL is the same text, so it is built once per export
# (peewee spent about a sixth of a million-row export rebuilding it for every chunk).
RESUME_TIME_MARK = "\x01resume-time"
RESUME_ID_MARK = -7_000_000_001


def iter_csv_rows(criteria: CallFilter, chunk: int | None = None) -> Iterator[tuple]:
    """The CSV row of every call in the range, in time order, `chunk` calls a query (keyset paging)."""
    columns = csv_columns()
    output = itemgetter(slice(0, len(columns)))
    for rows in _keyset_chunks(criteria, columns, chunk or queries.CHUNK_ROWS):
        yield from (csv_row(output(row)) for row in rows)


def iter_csv_lines(criteria: CallFilter, chunk: int | None = None) -> Iterator[list[str]]:
    """The same rows as CSV lines (LineWriter), a list per chunk: a published call's stored line, else one
    written now from its row. Reading one text per call is several times faster than reading ten columns."""
    writer = LineWriter()
    for rows in _keyset_chunks(criteria, [CallPath.csv_line], chunk or queries.CHUNK_ROWS):
        missing = [call_id for line, _, call_id in rows if line is None]
        made = _lines_of(missing, writer) if missing else {}
        yield [line if line is not None else made[call_id] for line, _, call_id in rows]


def _lines_of(call_ids: list[int], writer: LineWriter) -> dict[int, str]:
    query = (Call.select(Call.id, *csv_columns()).join(CallPath, JOIN.LEFT_OUTER, on=(CallPath.call == Call.id))
             .where(Call.id.in_(call_ids)))
    return {row[0]: writer.line(csv_row(row[1:])) for row in database.execute(query).fetchall()}


def _keyset_chunks(criteria: CallFilter, columns: list, chunk: int) -> Iterator[list[tuple]]:
    """Rows of `columns` + (started_at, id) in time order, `chunk` at a time."""
    sql, params = _chunk_query(criteria, columns, chunk, None).sql()
    resume_sql, resume_params = _chunk_query(criteria, columns, chunk, (RESUME_TIME_MARK, RESUME_ID_MARK)).sql()
    while True:
        # Raw rows (no field conversion): the keyset timestamp goes back to the database exactly as it came.
        rows = database.execute_sql(sql, params).fetchall()
        if rows:
            yield rows
        if len(rows) < chunk:
            return
        last_time, last_id = rows[-1][-2:]
        sql = resume_sql
        params = [last_time if p == RESUME_TIME_MARK else last_id if p == RESUME_ID_MARK else p
                  for p in resume_params]


def _chunk_query(criteria: CallFilter, columns: list, chunk: int, last: tuple | None):
    # Each chunk starts the index range at the last row's time rather than re-reading the range.
    query = (Call.select(*columns, Call.started_at, Call.id)
             .join(CallPath, JOIN.LEFT_OUTER, on=(CallPath.call == Call.id))
             .where(criteria.where(resume_at=last[0] if last else None)))
    if last is not None:
        query = query.where((Call.started_at > last[0]) | (Call.id > last[1]))
    return query.order_by(Call.started_at, Call.id).limit(chunk)


def store_paths(start_at, end_at) -> int:
    """Store the path and the CSV line of every finished call started in [start_at, end_at), replacing what was
    there; returns how many were stored. One read of the calls: the line is written from the row that gives the path."""
    in_range = (Call.started_at >= start_at) & (Call.started_at < end_at)
    CallPath.delete().where(CallPath.call.in_(Call.select(Call.id).where(in_range))).execute()
    finished = Call.select(Call.id, *csv_columns(path=path_text_sql())).where(in_range & Call.ended_at.is_null(False))
    writer = LineWriter()
    rows = [(row[0], row[1 + PATH_COLUMN], writer.line(csv_row(row[1:])))
            for row in database.execute(finished).fetchall()]
    insert_rows(CallPath, [CallPath.call, CallPath.path, CallPath.csv_line], rows)
    return len(rows)
