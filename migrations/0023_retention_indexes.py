"""An index for the daily retention purge (R-52, issue 17): receipts that never matched a message are found by
their age (sms.retention.purge_unmatched_receipts) without reading every receipt of every message. Partial: only
the unmatched ones, a handful beside the millions that have their message (and go with it)."""


def up(migrator, db):
    db.execute_sql('CREATE INDEX IF NOT EXISTS "sms_receipt_unmatched_received_at" ON "sms_receipt" ("received_at") '
                   'WHERE "message_id" IS NULL')
