"""The call state between webhooks: typed in the engine, stored as the JSON calls have always had on their rows."""
import json

import pytest

from ivr.engine import resume
from ivr.state import CallState, NumberEntry, Wait
from ivr.verbs import Keys
from tests.ivr.builders import FakePorts, menu_flow

# Rows as the engine stored them before the state had a type (plain dicts through json.dumps).
STORED_ROWS = [
    '{"caller": "+819012345678", "tries": {}, "wait": {"node": "main", "mode": "menu"}, "entry": null}',
    '{"caller": "+819012345678", "tries": {"main": 2}, "wait": {"node": "op", "mode": "dial"}, "entry": null}',
    '{"caller": "anonymous", "tries": {"main": 1}, "wait": {"node": "sms", "mode": "number"}, '
    '"entry": {"node": "sms", "tries": 1, "number": null}}',
    '{"caller": "anonymous", "tries": {}, "wait": {"node": "sms", "mode": "confirm"}, '
    '"entry": {"node": "sms", "tries": 0, "number": "09012345678", "e164": "+819012345678"}}',
    '{"caller": "anonymous", "tries": {}, "wait": {"node": "sms", "mode": "number"}, '
    '"entry": {"node": "sms", "tries": 0, "number": null, "e164": "+819012345678"}}',
    '{"caller": "+81312345678", "tries": {}, "wait": null, "entry": null}',
]


@pytest.mark.parametrize("row", STORED_ROWS)
def test_a_stored_row_reads_and_is_written_back_byte_for_byte(row):
    assert CallState.from_json(row).to_json() == row


def test_fields_are_typed():
    state = CallState.from_json(STORED_ROWS[3])
    assert state.caller == "anonymous" and state.tries == {}
    assert state.wait == Wait(node="sms", mode="confirm")
    assert state.entry == NumberEntry(node="sms", tries=0, number="09012345678", e164="+819012345678")


@pytest.mark.parametrize("row", [None, "", "{}", '{"wait": {"node": "main", "mode": "menu"}}'])
def test_missing_keys_read_as_their_defaults(row):
    state = CallState.from_json(row)
    assert (state.caller, state.tries, state.entry) == ("", {}, None)
    assert json.loads(state.to_json()).keys() == {"caller", "tries", "wait", "entry"}


def test_japanese_stays_readable_in_the_row():
    assert "メイン" in CallState(caller="anonymous", tries={"メイン": 1}).to_json()


def test_a_call_live_across_the_deploy_goes_on_from_its_stored_row():
    fake = FakePorts()
    step = resume(menu_flow(ask_number=True), CallState.from_json(STORED_ROWS[3]), Keys("1"), fake.ports())
    assert fake.sent == [(1, "+819012345678", "sms")]
    assert step.outcome == "completed"


def test_the_engine_changes_a_copy_and_never_the_state_it_was_given():
    state = CallState.from_json(STORED_ROWS[2])
    before = state.to_json()
    step = resume(menu_flow(ask_number=True), state, Keys("123"), FakePorts().ports())
    assert state.to_json() == before
    assert step.state.entry.tries == 2 and step.state.wait == Wait("sms", "number")
