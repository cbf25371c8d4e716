"""Recipients into the SMS outbox, a batch at a time, set-based (issue 17: ≥ 5,000 recipients a second).

The same rows `sms.sending.queue_text` makes for one message, made for a claimed batch in a handful of
statements instead of a dozen per message:
- one query finds which of the batch's numbers opted out, one which slots already have their outbox row
  (idempotency keys: a batch committed before a crash is never queued twice);
- each slot's text is its message with the recipient's CSV values filled in (差し込み), checked once per distinct
  text (R-22, R-23); its body gets its own short link and opt-out link, as queue_text's do;
- one multi-row INSERT of the messages, one SELECT of their ids by key, one multi-row INSERT of the short links;
- the recipient rows are settled with one UPDATE per combination of slot outcomes, each message id taken by an
  `INSERT … SELECT`-like correlated sub-select on the idempotency key, so no per-row statement is sent.
Tickets were taken when the send started (sms.bulk.runner.start); opted-out numbers get a failed row
(「配信停止済み」), like queue_text's refusal. Runs inside the caller's write transaction.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from peewee import SQL

from core import clock
from core.config import setting
from core.db import database, insert_rows, is_sqlite
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
    outcomes: dict[tuple[str | None, str | None], list[int]] = defaultdict(list)
    for row in rows:
        states: list[str | None] = [KEEP, KEEP]
        for index, template in enumerate(texts):
            if row.slot_state(index) != SLOT_PENDING:
                continue
            key = bulk_key(send.id, row.id, index)
            if key in existing:
                states[index] = existing[key]
                continue
            text = merge.fill(template, names, row.field_values) if personal else template
            check = judged.get((text, urls[index]))
            if check is None:
                check = judged[(text, urls[index])] = check_template(text, urls[index] or None)
            if not check.ok:
                log.warning("bulk send %s: %s not queued: %s", send.id, row.to_number, " ".join(check.errors))
                states[index] = SLOT_ERROR
                continue
            message = new_message(how, key, row.to_number, boxes[index], check.text, urls[index],
                                  row.to_number in opted_out)
            new.append(message)
            states[index] = SLOT_OPTED_OUT if message.opted_out else SLOT_QUEUED
        outcomes[(states[0], states[1])].append(row.id)
    insert_messages(send, new, now)
    settle(send.id, outcomes)


def opted_out_among(numbers: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(numbers), IN_CHUNK):
        chunk = list(set(numbers[start:start + IN_CHUNK]))
        found.update(n for (n,) in OptOut.select(OptOut.number).where(in_list("number", chunk)).tuples())
    return found


def existing_outcomes(keys: Sequence[str]) -> dict[str, str]:
    """Slots whose outbox row already exists (queued before a crash): the slot state that row stands for."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), IN_CHUNK):
        query = (Message.select(Message.idempotency_key, Message.state, Message.error_message, Message.provider_sid)
                 .where(in_list("idempotency_key", keys[start:start + IN_CHUNK])).tuples())
        for key, state, error, sid in query:
            refused = sid is None and state == "failed" and error == REFUSAL_LOG_MESSAGES["opted_out"]
            found[key] = SLOT_OPTED_OUT if refused else SLOT_QUEUED
    return found


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


MESSAGE_FIELDS = [Message.idempotency_key, Message.to_number, Message.box_number, Message.body, Message.parts,
                  Message.status, Message.state, Message.error_message, Message.created_at, Message.updated_at,
                  Message.due_at, Message.final_at, Message.optout_token, Message.source, Message.created_by,
                  Message.bulk_send_id]


def insert_messages(send: BulkSend, new: Sequence[NewMessage], now) -> None:
    if not new:
        return
    creator, send_id = send.confirmed_by or "bulk", send.id
    refusal = REFUSAL_LOG_MESSAGES["opted_out"]
    # SQLite's driver would write each datetime as its isoformat(" "), three a row: written once here instead.
    stamp = now.isoformat(" ") if is_sqlite() else now
    rows = [(m.key, m.to_number, m.box_number, m.body, m.parts,
             STATUS_FAILED if m.opted_out else STATUS_SENDING, "failed" if m.opted_out else "queued",
             refusal if m.opted_out else "", stamp, stamp, None if m.opted_out else stamp,
             stamp if m.opted_out else None, m.optout_token, "bulk", creator, send_id) for m in new]
    insert_plain(Message, MESSAGE_FIELDS, rows)
    with_links = [m for m in new if m.short_code]
    if not with_links:
        return
    ids = message_ids([m.key for m in with_links])
    insert_plain(ShortLink, [ShortLink.code, ShortLink.message, ShortLink.target_url, ShortLink.clicks,
                            ShortLink.created_at],
                [(m.short_code, ids[m.key], m.target_url, 0, now) for m in with_links])


def insert_plain(model, fields, rows) -> None:
    """Rows of plain values (no defaults to fill in). On PostgreSQL one `INSERT … VALUES %s` per thousand rows
    through psycopg2's execute_values, which builds the statement in C; peewee's insert_many converts every value
    through its field first, which took most of the batch's time. SQLite: core.db.insert_rows (executemany)."""
    if is_sqlite():
        insert_rows(model, fields, rows)
        return
    from psycopg2.extras import execute_values

    given = {field.name for field in fields}
    defaults = [f for f in model._meta.sorted_fields if f.name not in given and f.default is not None]
    if defaults:  # the model's defaults are peewee's, not the table's: give them as insert_many would
        extra = tuple(f.db_value(f.default() if callable(f.default) else f.default) for f in defaults)
        fields, rows = list(fields) + defaults, [tuple(row) + extra for row in rows]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    execute_values(database.cursor(), f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES %s', rows,
                   page_size=1000)


def message_ids(keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), IN_CHUNK):
        query = Message.select(Message.idempotency_key, Message.id).where(
            in_list("idempotency_key", keys[start:start + IN_CHUNK])).tuples()
        found.update(query)
    return found


def settle(send_id: int, outcomes: dict[tuple[str | None, str | None], list[int]]) -> None:
    """One UPDATE per combination of slot outcomes; the message ids come from the outbox by idempotency key."""
    for (state1, state2), ids in outcomes.items():
        changes: dict = {BulkRecipient.settled: True}
        for number, state, state_field, id_field in ((1, state1, BulkRecipient.state1, BulkRecipient.message1_id),
                                                     (2, state2, BulkRecipient.state2, BulkRecipient.message2_id)):
            if state is KEEP:
                continue
            changes[state_field] = state
            if state in (SLOT_QUEUED, SLOT_OPTED_OUT):
                changes[id_field] = message_id_by_key(send_id, number)
        for start in range(0, len(ids), IN_CHUNK):
            BulkRecipient.update(changes).where(in_list("id", ids[start:start + IN_CHUNK])).execute()


def in_list(column: str, values: Sequence) -> SQL:
    """`column IN (…)` of plain values, passed to the driver as they are (peewee's own IN converts each value
    through the field, which costs more than the query for a thousand keys)."""
    marks = ", ".join([database.param] * len(values))
    return SQL(f'"{column}" IN ({marks})', list(values))


def message_id_by_key(send_id: int, number: int):
    """The outbox row of a recipient row's slot `number`, found by its idempotency key (bulk_key)."""
    key = SQL(f"'bulk:{int(send_id)}:' || \"bulk_recipient\".\"id\" || ':{int(number)}'")
    return Message.select(Message.id).where(Message.idempotency_key == key)
