"""core.db.insert_rows and next_ids: rows given their ids, written by COPY on PostgreSQL (executemany on SQLite), read
back exactly: texts with backslashes, tabs, line breaks and Japanese, empty texts apart from NULL, the model's
defaults filled in."""
import datetime as dt

from core.db import database, insert_rows, next_ids
from sms.models import Message

TEXTS = ["一行目\n二行目\r\n\tタブ", "C:\\path\\N and \\N", "", "\\N"]


def test_rows_go_in_with_their_ids_and_come_back_as_they_were(db):
    at = dt.datetime(2026, 1, 5, 10, 0, 0, 123000)
    with database.atomic():
        ids = next_ids(Message, len(TEXTS))
        insert_rows(Message, [Message.id, Message.to_number, Message.body, Message.box_number, Message.optout_token,
                            Message.created_at, Message.updated_at, Message.error_message],
                  [(message_id, "+819012345678", text, None if i % 2 else 7, text or None, at, at, text)
                   for i, (message_id, text) in enumerate(zip(ids, TEXTS))])
    assert len(set(ids)) == len(TEXTS)
    rows = {m.id: m for m in Message.select().where(Message.id.in_(ids))}
    for i, (message_id, text) in enumerate(zip(ids, TEXTS)):
        message = rows[message_id]
        assert (message.body, message.error_message, message.optout_token) == (text, text, text or None)
        assert message.box_number == (None if i % 2 else 7) and message.created_at == at
        assert (message.state, message.parts, message.claimed_by, message.resend_count) == ("queued", 1, "", 0)
    with database.atomic():
        after = next_ids(Message, 2)
    assert min(after) > max(ids)
    assert Message.create(to_number="+819012345679", body="次").id not in ids
