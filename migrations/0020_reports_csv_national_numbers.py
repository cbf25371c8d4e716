"""Report table: call-detail CSV lines stored with E.164 numbers (+819012345678) are dropped, so the export
writes them again with numbers as every page shows them (090-1234-5678); the next publication stores them again."""


def up(migrator, db):
    db.execute_sql("UPDATE call_path SET csv_line = NULL WHERE csv_line IS NOT NULL")
