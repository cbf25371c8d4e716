"""R-29 per carrier: a SoftBank message with no receipt is final (status 0) after 1 hour, a docomo one only after
72 hours; an unknown carrier waits 72 hours. Both are settings. On the controllable clock, with the simulator's
test numbers that never get a receipt (09099990040 is SoftBank, 09099990000 docomo)."""
import datetime as dt

from sms.models import Message
from sms.outbox import run_dispatch
from sms.receipts import expire_stale
from sms.sending import queue_text
from sms.statuses import TimeoutPolicy


def sent(number: str) -> int:
    message_id = queue_text("結果が返らない SMS", number, source="api").message_id
    run_dispatch()
    return message_id


def states(*ids) -> list[tuple[str, int]]:
    return [(m.state, m.status) for m in (Message.get_by_id(i) for i in ids)]


def test_softbank_is_final_after_one_hour_docomo_after_72(app, clock):
    softbank, docomo = sent("090-9999-0040"), sent("090-9999-0000")
    assert [Message.get_by_id(i).carrier for i in (softbank, docomo)] == ["softbank", "docomo"]
    clock.advance(minutes=59, seconds=59)
    assert expire_stale() == 0
    clock.advance(seconds=1)
    assert expire_stale() == 1
    assert states(softbank, docomo) == [("unknown", 0), ("sending", 1)]
    assert Message.get_by_id(softbank).final_at == dt.datetime(2026, 1, 5, 11, 0)
    clock.advance(hours=70, minutes=59, seconds=59)
    assert expire_stale() == 0
    clock.advance(seconds=1)
    assert expire_stale() == 1
    assert states(softbank, docomo) == [("unknown", 0), ("unknown", 0)]


def test_unknown_carrier_and_lookups_off_wait_72_hours(app, clock):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.carrier_lookup": False})
    message_id = sent("090-9999-0040")
    clock.advance(hours=71)
    assert expire_stale() == 0 and states(message_id) == [("sending", 1)]
    clock.advance(hours=1)
    assert expire_stale() == 1


def test_both_timeouts_are_settings(app, clock):
    app.config["SETTINGS"] = app.config["SETTINGS"].replace(**{"sms.status_timeout_hours_softbank": 3,
                                                               "sms.status_timeout_hours": 24})
    softbank, docomo = sent("090-9999-0040"), sent("090-9999-0000")
    clock.advance(hours=2)
    assert expire_stale() == 0
    clock.advance(hours=1)
    assert expire_stale() == 1 and states(softbank) == [("unknown", 0)]
    clock.advance(hours=21)
    assert expire_stale() == 1 and states(docomo) == [("unknown", 0)]


def test_timeout_policy_is_pure():
    policy = TimeoutPolicy(72, 1)
    assert [policy.hours_for(c) for c in ("softbank", "docomo", "au", "rakuten", "other", "unknown", "")] == [
        1, 72, 72, 72, 72, 72, 72]
