"""Report table: call-detail CSV lines stored before core.csvfile guarded every cell (caller and dialled numbers
were written raw, so Excel read +819012345678 as 8.19E+11 and a number cell could start a formula) are dropped;
the export writes those calls' lines afresh through the guarded writer, and the next publication stores them again."""


def up(migrator, db):
    db.execute_sql("UPDATE call_path SET csv_line = NULL WHERE csv_line IS NOT NULL")
