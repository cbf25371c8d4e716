"""Recipients into the SMS outbox, a batch at a time, set-based (issue 17: ≥ 5,000 recipients a second).

The same rows `sms.sending.queue_text` makes for one message, made for a claimed batch in a handful of
statements instead of a dozen per message:
- one query finds which of the batch's numbers opted out, one which slots already have their outbox row
  (idempotency keys: a batch committed before a crash is never queued twice);
- each slot's text is its message with the recipient's CSV values filled in (差し込み), checked once per distinct
  text (R-22, R-23); its body gets its own short link and opt-out link, as queue_text's do;
- the new rows' ids are taken first (core.db.next_ids), so the messages and their short links go in with one
  COPY each on PostgreSQL (one executemany each on SQLite: core.db.insert_rows) and nothing is read back;
- the recipient rows are settled by one statement: an UPDATE joined to the batch's outcomes as arrays on
  PostgreSQL, one prepared UPDATE run by executemany on SQLite.
Statements are sent as SQL text, not built by peewee: for a thousand rows peewee's conversion of every value and
result through its field cost more than the database's work.
Tickets were taken when the send started (sms.bulk.runner.start); opted-out numbers get a failed row
(「配信停止済み」), like queue_text's refusal. Runs inside the caller's write transaction.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core import clock
from core.config import setting
from core.db import database, insert_rows, is_sqlite, next_ids
from sms import links
from sms.bulk import merge
from sms.bulk.models import (
    SLOT_ERROR,
    SLOT_OPTED_OUT,
    SLOT_PENDING,
    SLOT_QUEUED,
    BulkRecipient,
    BulkSend,
    bulk_key,
)
from sms.models import STATUS_FAILED, STATUS_SENDING, Message, OptOut, ShortLink
from sms.rules import TextCheck, count_parts
from sms.sending import REFUSAL_LOG_MESSAGES, check_template, url_line

log = logging.getLogger("sms.bulk")
KEEP = None  # a slot outcome meaning "this slot was not pending: leave it as it is"
IN_CHUNK = 500  # numbers or keys per IN (…) list


CLAIMED_COLUMNS = (BulkRecipient.id, BulkRecipient.to_number, BulkRecipient.state1, BulkRecipient.state2,
                   BulkRecipient.fields)


class Claimed(NamedTuple):
    """A claimed recipient row, read as a tuple (a model object per row costs more than the rest of the work)."""

    id: int
    to_number: str
    state1: str
    state2: str
    fields: str | None

    def slot_state(self, index: int) -> str:
        return self.state1 if index == 0 else self.state2

    @property
    def field_values(self) -> list[str]:
        return json.loads(self.fields) if self.fields else []


@dataclass(frozen=True)
class Links:
    """How a body's links are written: the placeholders and the URL prefixes (read once a batch)."""

    url_placeholder: str
    optout_placeholder: str
    short_prefix: str
    optout_prefix: str

    @classmethod
    def current(cls) -> Links:
        return cls(setting("sms.url_placeholder"), setting("sms.optout_placeholder"), links.short_url(""),
                   links.optout_url(""))


@dataclass
class NewMessage:
    key: str
    to_number: str
    box_number: int | None
    body: str
    parts: int
    optout_token: str | None
    short_code: str | None
    target_url: str
    opted_out: bool
    id: int | None = None  # given by core.db.next_ids before the row is inserted


class Change(NamedTuple):
    """How one claimed row is settled: each slot's new state and outbox row (KEEP: left as it is). A message is
    an id (a row already in the outbox) or the NewMessage about to be inserted."""

    row_id: int
    state1: str | None
    message1: int | NewMessage | None
    state2: str | None
    message2: int | NewMessage | None

    def values(self) -> tuple[int, str | None, int | None, str | None, int | None]:
        return (self.row_id, self.state1, message_id(self.message1), self.state2, message_id(self.message2))


def message_id(message: int | NewMessage | None) -> int | None:
    return message.id if isinstance(message, NewMessage) else message


def fill(send: BulkSend, rows: Sequence[Claimed], urls: Sequence[str]) -> None:
    """Queue every pending slot of `rows` and settle the rows (see the module's docstring)."""
    now = clock.now()
    how = Links.current()
    opted_out = opted_out_among([row.to_number for row in rows])
    texts, boxes, names = send.messages, send.boxes, send.merge_fields
    personal = merge.uses_fields(texts, names)
    keys = [bulk_key(send.id, row.id, index) for row in rows for index in range(len(texts))
            if row.slot_state(index) == SLOT_PENDING]
    existing = existing_outcomes(keys)
    judged: dict[tuple[str, str], TextCheck] = {}
    new: list[NewMessage] = []
    changes: list[Change] = []
    for row in rows:
        slots: list = [KEEP, KEEP, KEEP, KEEP]  # state1, message1, state2, message2
        for index, template in enumerate(texts):
            if row.slot_state(index) != SLOT_PENDING:
                continue
            key = bulk_key(send.id, row.id, index)
            if key in existing:
                slots[2 * index:2 * index + 2] = existing[key]
                continue
            text = merge.fill(template, names, row.field_values) if personal else template
            check = judged.get((text, urls[index]))
            if check is None:
                check = judged[(text, urls[index])] = check_template(text, urls[index] or None)
            if not check.ok:
                log.warning("bulk send %s: %s not queued: %s", send.id, row.to_number, " ".join(check.errors))
                slots[2 * index] = SLOT_ERROR
                continue
            message = new_message(how, key, row.to_number, boxes[index], check.text, urls[index],
                                  row.to_number in opted_out)
            new.append(message)
            slots[2 * index:2 * index + 2] = SLOT_OPTED_OUT if message.opted_out else SLOT_QUEUED, message
        changes.append(Change(row.id, *slots))
    for message, new_id in zip(new, next_ids(Message, len(new))):
        message.id = new_id
    insert_messages(send, new, now)
    settle([change.values() for change in changes])


def opted_out_among(numbers: Sequence[str]) -> set[str]:
    query = f'SELECT "number" FROM "{OptOut._meta.table_name}"'
    return {number for (number,) in select_in(query, "number", list(set(numbers)))}


def existing_outcomes(keys: Sequence[str]) -> dict[str, tuple[str, int]]:
    """Slots whose outbox row already exists (queued before a crash): the slot state that row stands for, its id."""
    found: dict[str, tuple[str, int]] = {}
    query = ('SELECT "idempotency_key", "state", "error_message", "provider_sid", "id" '
             f'FROM "{Message._meta.table_name}"')
    for key, state, error, sid, message in select_in(query, "idempotency_key", keys):
        refused = sid is None and state == "failed" and error == REFUSAL_LOG_MESSAGES["opted_out"]
        found[key] = (SLOT_OPTED_OUT if refused else SLOT_QUEUED, message)
    return found


def select_in(query: str, column: str, values: Sequence):
    """The rows of `query WHERE column IN values`, the values passed to the driver as they are: one array
    parameter on PostgreSQL, lists of IN_CHUNK on SQLite."""
    if not values:
        return
    if not is_sqlite():
        yield from database.execute_sql(f'{query} WHERE "{column}" = ANY(%s)', (list(values),)).fetchall()
        return
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start:start + IN_CHUNK]
        yield from database.execute_sql(f'{query} WHERE "{column}" IN ({", ".join("?" * len(chunk))})',
                                        chunk).fetchall()


def new_message(how: Links, key: str, to_number: str, box_number: int | None, text: str, url: str,
                opted_out: bool) -> NewMessage:
    """One slot's outbox row: the text with its own short link ({url}) and opt-out link ({optout_url}),
    written as sms.links.short_url / optout_url write them."""
    body, code, token = text + url_line(text, url, how.url_placeholder), None, None  # the URL always arrives
    if url and how.url_placeholder in body:
        code = links.new_code()
        body = body.replace(how.url_placeholder, how.short_prefix + code)
    if how.optout_placeholder in body:
        token = links.new_optout_token()
        body = body.replace(how.optout_placeholder, how.optout_prefix + token)
    return NewMessage(key, to_number, box_number, body, count_parts(len(body)), token, code, url, opted_out)


MESSAGE_FIELDS = [Message.id, Message.idempotency_key, Message.to_number, Message.box_number, Message.body,
                  Message.parts, Message.status, Message.state, Message.error_message, Message.created_at,
                  Message.updated_at, Message.due_at, Message.final_at, Message.optout_token, Message.source,
                  Message.created_by, Message.bulk_send_id]
LINK_FIELDS = [ShortLink.code, ShortLink.message, ShortLink.target_url, ShortLink.clicks, ShortLink.created_at]


def insert_messages(send: BulkSend, new: Sequence[NewMessage], now) -> None:
    """The batch's outbox rows and short links, their ids given (core.db.insert_rows: COPY or executemany)."""
    if not new:
        return
    creator, send_id = send.confirmed_by or "bulk", send.id
    refusal = REFUSAL_LOG_MESSAGES["opted_out"]
    # Written once here: SQLite's driver would write each datetime as its isoformat(" "), three a row.
    stamp = now.isoformat(" ")
    rows = [(m.id, m.key, m.to_number, m.box_number, m.body, m.parts,
             STATUS_FAILED if m.opted_out else STATUS_SENDING, "failed" if m.opted_out else "queued",
             refusal if m.opted_out else "", stamp, stamp, None if m.opted_out else stamp,
             stamp if m.opted_out else None, m.optout_token, "bulk", creator, send_id) for m in new]
    insert_rows(Message, MESSAGE_FIELDS, rows)
    links_rows = [(m.short_code, m.id, m.target_url, 0, stamp) for m in new if m.short_code]
    if links_rows:
        insert_rows(ShortLink, LINK_FIELDS, links_rows)


SETTLE_SQLITE = ('UPDATE "bulk_recipient" SET "state1" = COALESCE(?, "state1"), "message1_id" = COALESCE(?, '
                 '"message1_id"), "state2" = COALESCE(?, "state2"), "message2_id" = COALESCE(?, "message2_id"), '
                 '"settled" = 1 WHERE "id" = ?')
SETTLE_POSTGRES = ('UPDATE "bulk_recipient" AS r SET "state1" = COALESCE(v.state1, r."state1"), '
                   '"message1_id" = COALESCE(v.message1, r."message1_id"), "state2" = COALESCE(v.state2, r."state2"), '
                   '"message2_id" = COALESCE(v.message2, r."message2_id"), "settled" = TRUE '
                   "FROM unnest(%s::integer[], %s::text[], %s::integer[], %s::text[], %s::integer[]) "
                   "AS v(id, state1, message1, state2, message2) WHERE r.\"id\" = v.id AND r.\"id\" BETWEEN %s AND %s")


def settle(changes: Sequence[tuple[int, str | None, int | None, str | None, int | None]]) -> None:
    """Every claimed row settled at once: (row id, state1, message1 id, state2, message2 id), None leaving a
    value as it is."""
    if not changes:
        return
    if is_sqlite():
        database.cursor().executemany(SETTLE_SQLITE, [(*change[1:], change[0]) for change in changes])
        return
    # The ids' range as well: the rows are then found through the primary key; joined to the arrays alone (or
    # with `id = ANY(…)`), the planner reads the whole table for each batch.
    columns = [list(column) for column in zip(*changes)]
    database.execute_sql(SETTLE_POSTGRES, [*columns, min(columns[0]), max(columns[0])])
