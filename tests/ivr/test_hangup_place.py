"""R-04: a hang-up lands on the node and the guidance that was playing, not on the node the call waits at.

The demo flow is called with the Twilio-shaped test phone; the controllable clock stands for the time the caller
listens, and the status callback carries CallDuration as Twilio's does (whole seconds). Each guidance of the demo
flow is hung up on at 0.5 s, in its middle and just before its end. Lengths come from the guidance's own audio.
"""
from __future__ import annotations

import pytest

from guidance.public import playlist
from ivr import seed_defaults
from ivr.demo import DEMO_GUIDANCE
from ivr.models import Call, CallEvent
from tests.ivr.phone import Phone

DEMO_NUMBER = "+815000000000"
MOBILE = "+819012345678"
LANDLINE = "+81312345678"

# name → (caller, what the caller does first, [(node, part, guidance key) of the document then served], outcome)
SCENARIOS = {
    "opening": (MOBILE, [], [("greeting", "greeting", "greeting"), ("main", "menu_prompt", "menu")], "abandoned"),
    "timeout": (MOBILE, ["wait"], [("main", "timeout", "timeout"), ("main", "menu_prompt", "menu")], "abandoned"),
    "mis_entry": (MOBILE, ["9"], [("main", "mis_entry", "mis_entry"), ("main", "menu_prompt", "menu")],
                  "abandoned"),
    "number_entry": (LANDLINE, ["1"], [("sms", "number_entry", "number_entry")], "abandoned"),
    "transfer": (MOBILE, ["2"], [("operator", "transfer", "transfer")], "abandoned"),
    "sms_result": (MOBILE, ["1"], [("sms", "sms_result", "sent")], "completed"),
    "hours": (MOBILE, ["3"], [("hours_info", "guidance", "hours"), ("closing", "closing", "closing")], "completed"),
    "busy": (MOBILE, ["2", "no-answer"], [("busy", "guidance", "busy"), ("closing", "closing", "closing")],
             "completed"),
    "retry_closing": (MOBILE, ["wait", "wait", "wait"], [("closing", "closing", "closing")], "retry_limit"),
}
MOMENTS = ("0.5 s", "middle", "end")


@pytest.fixture
def demo(app, demo_guidance):
    import sms

    sms.seed_defaults(app)
    seed_defaults(app)
    return demo_guidance


def seconds_of(guidance_id: int) -> float:
    return sum(item.seconds for item in playlist(guidance_id))


def act(call, action: str) -> None:
    if action == "wait":
        call.wait()
    elif action == "no-answer":
        call.dial_ended("no-answer")
    else:
        call.press(action)


def moment(start: float, length: float, when: str) -> float:
    return start + {"0.5 s": 0.5, "middle": length / 2, "end": length - 0.3}[when]


def hang_up_after(call, clock, began, seconds: float):
    clock.advance(seconds=seconds)
    call.hang_up(round((clock.now() - began).total_seconds()))
    return Call.get(Call.call_sid == call.sid)


@pytest.mark.parametrize("when", MOMENTS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_hang_up_lands_on_the_guidance_that_was_playing(demo, client, clock, scenario, when):
    caller, actions, items, outcome = SCENARIOS[scenario]
    lengths = [seconds_of(demo[guidance]) for _, _, guidance in items]
    assert all(length > 1 for length in lengths)  # real audio, long enough for three distinct moments
    start = 0.0
    for (node, part, guidance), length in zip(items, lengths):
        phone = Phone(client)
        began = clock.now()
        call = phone.dial(DEMO_NUMBER, caller=caller)
        for action in actions:
            clock.advance(seconds=3)
            act(call, action)
        record = hang_up_after(call, clock, began, moment(start, length, when))
        hangup = CallEvent.get((CallEvent.call == record.id) & (CallEvent.kind == "hangup"))
        assert record.outcome == outcome, (node, part)
        assert (hangup.node_key, DEMO_GUIDANCE[guidance][1] in hangup.detail) == (node, True), hangup.detail
        if outcome == "abandoned":
            assert (record.abandoned_node_key, record.abandoned_part, record.abandoned_guidance_name) == (
                node, part, DEMO_GUIDANCE[guidance][1])
        else:
            assert record.abandoned_node_key is None and record.abandoned_part is None
        start += length


def test_silence_after_the_menu_prompt_is_waiting_at_the_menu(demo, client, clock):
    call = Phone(client).dial(DEMO_NUMBER)
    began = clock.now()
    record = hang_up_after(call, clock, began, seconds_of(demo["greeting"]) + seconds_of(demo["menu"]) + 2)
    assert (record.outcome, record.abandoned_node_key, record.abandoned_part) == ("abandoned", "main", "input_wait")
    assert record.abandoned_guidance_name is None


def test_a_hang_up_while_the_operator_rings_is_a_transfer(demo, client, clock):
    call = Phone(client).dial(DEMO_NUMBER)
    began = clock.now()
    clock.advance(seconds=3)
    call.press("2")
    record = hang_up_after(call, clock, began, seconds_of(demo["transfer"]) + 2)
    assert (record.outcome, record.abandoned_node_key) == ("transferred", None)


def test_a_late_callback_is_placed_by_call_duration(demo, client, clock):
    """Twilio retried the callback a minute later: CallDuration, not the arrival, tells where the caller was."""
    call = Phone(client).dial(DEMO_NUMBER)
    clock.advance(seconds=60)
    call.hang_up(1)
    record = Call.get(Call.call_sid == call.sid)
    assert (record.abandoned_node_key, record.abandoned_part) == ("greeting", "greeting")
