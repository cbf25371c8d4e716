"""Fewer indexes on the SMS outbox (issue 17: a bulk send writes thousands of outbox rows a second, and every index
is written with every row). Only indexes no query searches by are dropped:
- sms_message.status: counted by reports and billing (CASE inside SUM), never searched;
- sms_message.provider_sid: receipts find their message through sms_attempt.provider_sid;
- sms_message.to_number: the log's number search is `LIKE '%…%'` (contains), which no B-tree serves;
- bulk_recipient.bulk_send_id: the unique (bulk_send_id, position) index starts with the same column.
sms_message.call_sid becomes partial: only SMS sent during a call have one (not bulk or API sends), and its one
search, the messages of a call, is `call_sid = ?`, which both databases answer from a partial index."""

DROPPED = ("sms_message_status", "sms_message_provider_sid", "sms_message_to_number", "bulk_recipient_bulk_send_id")


def up(migrator, db):
    for name in DROPPED:
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    db.execute_sql('DROP INDEX IF EXISTS "sms_message_call_sid"')
    db.execute_sql('CREATE INDEX "sms_message_call_sid" ON "sms_message" ("call_sid") WHERE "call_sid" IS NOT NULL')
