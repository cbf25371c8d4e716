"""Call records that tell the truth (issue 13).

ivr: menus get their own limit for mis-entries (until now one count of timeouts and mis-entries together, so
the old limit becomes both); calls record the timeline of the last document served (null: recorded before this
change) and, for an abandoned call, what part of the node was playing and its guidance. Calls already stored are
carried over as far as their records allow: a call whose events show it left a menu through the retry-limit
branch ("リトライ上限 →" in the event) becomes リトライ上限 (retry_limit); an abandoned call keeps the node it
waited at, with the part "unknown" (what was playing was never recorded).

reports: published days keep their figures (the 13:00 rule): a new counter retry_limit starts at 0 on every
published row, and legacy_calls says how many of a day's calls were recorded before this change (all of them
for the days published so far), so the page can say so. Abandons are kept by guidance and part too. Stored
call-detail CSV lines are dropped (they lack the new columns) and written again at export.
"""
from peewee import CharField, IntegerField, TextField
from playhouse.migrate import migrate

RETRY_LIMIT_MARK = "リトライ上限 →"


def up(migrator, db):
    migrate(
        migrator.add_column("ivr_node", "max_mis_entries", IntegerField(default=3)),
        migrator.add_column("ivr_call", "abandoned_part", CharField(max_length=16, null=True)),
        migrator.add_column("ivr_call", "abandoned_guidance_name", CharField(max_length=100, null=True)),
        migrator.add_column("ivr_call", "timeline", TextField(null=True)),
        # The flow picture's figures read one flow's calls over a range of days.
        migrator.add_index("ivr_call", ("flow_id", "started_at"), False),
        migrator.add_index("ivr_call", ("abandoned_node_key",), False),
        migrator.add_column("daily_stat", "retry_limit", IntegerField(default=0)),
        migrator.add_column("daily_stat", "legacy_calls", IntegerField(default=0)),
        migrator.add_column("daily_abandon", "part", CharField(max_length=16, default="")),
        migrator.add_column("daily_abandon", "guidance_name", CharField(max_length=200, default="")),
    )
    db.execute_sql('UPDATE "ivr_node" SET "max_mis_entries" = "max_tries"')
    db.execute_sql('UPDATE "ivr_call" SET "outcome" = \'retry_limit\' WHERE "outcome" IS NOT NULL '
                   'AND "outcome" <> \'error\' AND "id" IN (SELECT "call_id" FROM "ivr_call_event" '
                   'WHERE "kind" IN (\'timeout\', \'mis_entry\') AND "detail" LIKE ' + db.param + ')',
                   (f"%{RETRY_LIMIT_MARK}%",))
    db.execute_sql('UPDATE "ivr_call" SET "abandoned_part" = \'unknown\' WHERE "outcome" = \'abandoned\'')
    db.execute_sql('UPDATE "daily_stat" SET "legacy_calls" = "calls"')
    db.execute_sql('UPDATE "daily_abandon" SET "part" = \'unknown\'')
    # Stored call-detail CSV lines lack the two new columns (where abandoning callers hung up): the export
    # writes those calls' lines afresh, and the next publication stores them again.
    db.execute_sql('UPDATE "call_path" SET "csv_line" = NULL WHERE "csv_line" IS NOT NULL')
