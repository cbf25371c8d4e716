"""A call whose last step this process stored goes on from what the process remembers (ivr.calls._remember), but
only while the call's row still holds that step and state: a call moved on by another process, or by a copy of
the request, is answered from the row exactly as before."""
import dataclasses
import logging

from ivr.models import Call, CallEvent
from sms.models import Message
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.test_webhook_shortcut import events_table_gone

LIVE_CALLS = "ivr_live_calls"  # where ivr.calls keeps them, per app


def mis_entries(call):
    record = Call.get(Call.call_sid == call.sid)
    kinds = [e.kind for e in CallEvent.select().where(CallEvent.call == record.id).order_by(CallEvent.id)]
    return record.step, record.call_state().misses, kinds.count("mis_entry")


def test_a_step_another_process_took_is_answered_with_the_stored_answer(app, phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    action, params = call.gather.get("action"), call.params(Digits="9")
    live = app.extensions[LIVE_CALLS]
    before = live[call.sid]
    call.press("9")
    live[call.sid] = before  # as if another process had answered that press: this one still remembers step 1

    again = phone.post(action, params)  # Twilio's retry of the press, to this process

    assert again.get_data(as_text=True) == call.responses[-1]
    assert mis_entries(call) == (2, {"main": 1}, 1)
    call.press("9")  # and the call goes on from its row
    assert mis_entries(call) == (3, {"main": 2}, 2)


def test_a_remembered_state_the_row_does_not_hold_is_not_used(app, phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    call.press("9")
    live = app.extensions[LIVE_CALLS]
    remembered = live[call.sid]
    wrong = remembered.state.replace('"misses": {"main": 1}', '"misses": {"main": 5}')
    assert wrong != remembered.state
    live[call.sid] = dataclasses.replace(remembered, state=wrong)

    call.press("9")

    assert mis_entries(call) == (3, {"main": 2}, 2)
    assert "2/" in CallEvent.select().order_by(CallEvent.id.desc()).first().detail


def test_steps_that_queue_an_sms_or_end_the_call_leave_nothing_remembered(app, phone, menu_flow_saved):
    live = app.extensions.setdefault(LIVE_CALLS, {})
    ending = phone.dial(FLOW_NUMBER)
    ending.press("9")
    assert live[ending.sid].step == 2
    ending.hang_up()
    assert ending.sid not in live

    texting = phone.dial(FLOW_NUMBER)
    texting.press("1")  # the SMS node, then the closing guidance: the call waits for nothing more
    assert texting.hung_up and texting.sid not in live
    assert Message.select().where(Message.call_sid == texting.sid).count() == 1


def test_a_remembered_step_that_fails_changes_nothing_and_twilios_retry_then_succeeds(phone, menu_flow_saved, caplog):
    call = phone.dial(FLOW_NUMBER)
    call.press("9")  # stored the remembered way (on PostgreSQL: its statement now prepared on the connection)
    action, params = call.gather.get("action"), call.params(Digits="9")
    with events_table_gone(), caplog.at_level(logging.ERROR):
        failed = phone.post(action, params)
    assert failed.status_code == 500
    assert mis_entries(call) == (2, {"main": 1}, 1)

    call.answer(phone.post(action, params))
    assert mis_entries(call) == (3, {"main": 2}, 2)



def prepared_statements():
    """The statements prepared on this connection (PostgreSQL); SQLite prepares nothing by name."""
    from core.db import database, is_postgres

    if not is_postgres():
        return []
    return [name for (name,) in database.execute_sql("SELECT name FROM pg_prepared_statements").fetchall()]


def test_the_key_press_statement_is_prepared_once_per_connection(phone, menu_flow_saved):
    from core.db import is_postgres

    call = phone.dial(FLOW_NUMBER)
    call.press("9")
    call.press("9")
    assert prepared_statements() == (["ivr_step_if_unchanged"] if is_postgres() else [])
    assert mis_entries(call) == (3, {"main": 2}, 2)


def test_without_prepared_statements_a_key_press_is_stored_the_same(app, phone, menu_flow_saved):
    app.config["SETTINGS"] = {**app.config["SETTINGS"], "database.prepared_statements": False}  # PgBouncer, tx mode
    call = phone.dial(FLOW_NUMBER)
    call.press("9")
    call.press("9")
    assert prepared_statements() == []
    assert mis_entries(call) == (3, {"main": 2}, 2)


def test_a_step_stored_inside_a_callers_transaction_goes_and_stays_with_it(app, phone, menu_flow_saved):
    """store_step_if_unchanged relaxes the commit only of the transaction it is alone in (on PostgreSQL, inside its
    one statement): within a caller's transaction it leaves that transaction's durability as the caller chose,
    and its writes are undone with the caller's."""
    from core import clock
    from core.db import database, is_postgres
    from ivr import callsql

    call = phone.dial(FLOW_NUMBER)
    record = Call.get(Call.call_sid == call.sid)
    seen = (record.step, record.state, record.flow_id, record.flow_version_id)
    fields = dict(step=record.step + 1, state=record.state, last_response="<Response/>", outcome=None,
                  last_node_key=None, last_node_name=None, timeline=record.timeline, at=clock.now(), events=[])

    class Undo(Exception):
        pass

    try:
        with database.atomic():
            assert callsql.store_step_if_unchanged(record.id, seen, **fields)
            if is_postgres():
                assert database.execute_sql("SHOW synchronous_commit").fetchone()[0] == "on"
            raise Undo
    except Undo:
        pass
    assert Call.get_by_id(record.id).step == record.step
    assert callsql.store_step_if_unchanged(record.id, seen, **fields)  # alone: its own transaction, kept
    assert Call.get_by_id(record.id).step == record.step + 1
