"""An index for the report's live view (issue 17): the SMS changed since the last refresh (a receipt, a click) are
found by when they changed, instead of reading every message of the range."""

INDEXES = (("sms_message_updated_at", "sms_message", "updated_at"),)


def up(migrator, db):
    for name, table, column in INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")')
