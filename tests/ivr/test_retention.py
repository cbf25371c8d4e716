"""R-52 for ivr's audit entries: those naming a caller's number (voicemails dealt with, caller rules) go 90
days after they were made; the rules themselves stay (core.retention's daily purge). Calls, their voicemails
and recordings: tests/ivr/test_voicemails.py, test_simulator_recordings.py and
tests/reports/test_retention_purge.py."""
import datetime as dt

from core.models import AuditLog
from core.retention import purge_expired
from ivr.models import CallerRule


def test_audit_entries_naming_a_caller_go_after_90_days(staff_client, clock):
    clock.set("2026-01-05 10:00")
    added = staff_client.post("/ivr/callers", data={"number": "090-1111-2222", "action": "block"})
    assert added.status_code == 302
    rule = CallerRule.get()
    assert staff_client.post(f"/ivr/callers/{rule.id}/delete").status_code == 302
    staff_client.post("/ivr/callers", data={"number": "090-3333-4444", "action": "block"})
    clock.set("2026-01-06 10:00")
    staff_client.post("/ivr/callers", data={"number": "090-5555-6666", "action": "block"})
    numbers = {"ivr.caller_rule.created", "ivr.caller_rule.deleted"}

    clock.set(dt.datetime(2026, 4, 6, 3, 30))  # 91 days after the 5th, 90 after the 6th
    assert purge_expired()["ivr.audit"] == 3
    assert [row.target for row in AuditLog.select().where(AuditLog.action.in_(numbers))] == ["+819055556666"]
    assert AuditLog.select().where(AuditLog.action == "login").exists()  # not an entry with a number
    assert sorted(rule.number for rule in CallerRule.select()) == ["+819033334444", "+819055556666"]
