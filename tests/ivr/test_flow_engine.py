"""The engine as a plain function: (flow, state, input) → verbs, events, state, outcome (no Flask, no database)."""
import datetime as dt

import pytest

from ivr import messages as msg
from ivr.engine import hangup_outcome, resume, start
from ivr.number_entry import number_problem
from ivr.spec import FlowError
from ivr.state import CallState, Wait
from ivr.verbs import Dial, Gather, Guidance, Hangup, Keys, Record, Say, input_from_params
from tests.ivr.builders import FakePorts, menu_flow, node, spec

MOBILE = "+819012345678"
LANDLINE = "+81312345678"


def call(caller=MOBILE, flow=None, fake=None, entry=None):
    flow = flow or menu_flow()
    fake = fake or FakePorts()
    step = start(flow, CallState(caller=caller), fake.ports(), entry)
    return flow, fake, step


def press(flow, step, digits, fake, given=None):
    return resume(flow, step.state, given or Keys(digits), fake.ports())


def test_start_plays_greeting_then_waits_in_the_menu_gather():
    _, _, step = call()
    greeting, gather = step.verbs
    assert greeting == Guidance(1)
    assert gather == Gather(num_digits=1, timeout=5, prompts=(Guidance(2),), finish_on_key="")
    assert step.state.wait == Wait(node="main", mode="menu")
    assert [e.node_key for e in step.events] == ["greeting", "main"]
    assert step.outcome is None and step.last_node.key == "main"


def test_correct_choice_sends_the_box_to_the_mobile_caller_and_ends():
    flow, fake, step = call()
    step = press(flow, step, "1", fake)
    assert fake.sent == [(1, MOBILE, "sms")]
    assert step.verbs == [Guidance(5), Hangup()]
    assert step.outcome == "completed"
    assert [(e.kind, e.digits) for e in step.events][:1] == [("digit", "1")]
    assert any(e.kind == "sms" and "蓄積BOX 1" in e.detail for e in step.events)


def test_timeout_plays_timeout_guidance_then_the_menu_again_and_counts_a_try():
    flow, fake, step = call()
    step = press(flow, step, "", fake)
    assert step.verbs == [Gather(1, 5, (Guidance(3), Guidance(2)))]
    assert step.state.tries == {"main": 1}
    assert step.events[0].kind == "timeout" and "1/3" in step.events[0].detail


def test_wrong_digit_plays_mis_entry_guidance_then_the_menu_again():
    flow, fake, step = call()
    step = press(flow, step, "9", fake)
    assert step.verbs == [Gather(1, 5, (Guidance(4), Guidance(2)))]
    assert (step.events[0].kind, step.events[0].digits) == ("mis_entry", "9")


def test_menu_without_failure_guidance_says_the_default_japanese_text():
    flow = spec("m", node("m", "menu", guidance=2, exits={"1": "end", "fallback": "end"}), node("end", "hangup"))
    _, fake, step = call(flow=flow)
    assert press(flow, step, "", fake).verbs[0].prompts[0] == Say(msg.DEFAULT_TIMEOUT)
    assert press(flow, step, "7", fake).verbs[0].prompts[0] == Say(msg.DEFAULT_MIS_ENTRY)


def test_three_failures_of_any_kind_take_the_fallback():
    flow, fake, step = call()
    step = press(flow, step, "", fake)
    step = press(flow, step, "9", fake)
    step = press(flow, step, "", fake)
    assert step.verbs == [Guidance(6), Hangup()]
    assert step.outcome == "completed" and step.last_node.key == "closing"
    assert "リトライ上限" in step.events[0].detail


def test_tries_are_kept_per_menu_in_the_state_not_reset_by_a_correct_choice():
    flow = spec("m", node("m", "menu", guidance=2, max_tries=2, exits={"1": "back", "fallback": "end"}),
                node("back", "goto", exits={"target": "m"}), node("end", "hangup"))
    _, fake, step = call(flow=flow)
    step = press(flow, step, "5", fake)
    step = press(flow, step, "1", fake)   # back to the same menu
    assert step.state.tries == {"m": 1}
    step = press(flow, step, "5", fake)
    assert step.outcome == "completed"


def test_transfer_dials_then_no_answer_branch_or_transferred_outcome():
    flow, fake, step = call()
    step = press(flow, step, "2", fake)
    assert step.verbs == [Dial("+81312345678", 20)]
    assert step.state.wait.mode == "dial"
    answered = resume(flow, step.state, input_from_params("dial", {"DialCallStatus": "completed",
                                                                  "DialCallDuration": "42"}), fake.ports())
    assert (answered.outcome, answered.verbs) == ("transferred", [Hangup()])
    missed = resume(flow, step.state, input_from_params("dial", {"DialCallStatus": "no-answer"}), fake.ports())
    assert missed.verbs == [Guidance(7), Guidance(6), Hangup()]


@pytest.mark.parametrize("now, holidays, opened", [
    ("2026-01-05 10:00", {}, True),                          # Monday morning
    ("2026-01-05 18:00", {}, False),                         # closing time is already closed
    ("2026-01-03 10:00", {}, False),                         # Saturday
    ("2026-01-01 10:00", {dt.date(2026, 1, 1): "元日"}, False),  # a public holiday on a Thursday
    ("2026-01-06 10:00", {dt.date(2026, 1, 6): "創立記念日"}, False),  # a company holiday
])
def test_hours_branch(now, holidays, opened):
    fake = FakePorts(now=dt.datetime.fromisoformat(now), holidays=holidays)
    flow, fake, step = call(fake=fake)
    step = press(flow, step, "3", fake)
    assert step.verbs[0] == Guidance(8 if opened else 9)
    assert step.events[1].node_key == "hours" and ("営業時間内" in step.events[1].detail) == opened


def test_withheld_caller_choosing_sms_takes_the_cannot_send_branch():
    flow, fake, step = call(caller="anonymous")
    step = press(flow, step, "1", fake)
    assert fake.sent == []
    assert step.verbs == [Guidance(10), Guidance(6), Hangup()]
    assert any("非通知" in e.detail for e in step.events if e.kind == "sms")


def test_landline_caller_keys_in_a_wrong_number_then_a_mobile_and_confirms():
    flow = menu_flow(ask_number=True)
    flow, fake, step = call(caller=LANDLINE, flow=flow)
    step = press(flow, step, "1", fake)
    gather = step.verbs[0]
    assert (gather.num_digits, gather.finish_on_key, gather.prompts) == (11, "#", (Say(msg.NUMBER_ENTRY_PROMPT),))
    step = press(flow, step, "05012345678", fake)
    assert step.verbs[0].prompts[0] == Say(msg.NUMBER_PROBLEMS["ip_phone"])
    step = press(flow, step, "09012345678", fake)
    readback = step.verbs[0].prompts[0].text
    assert "ゼロ・キュウ・ゼロ、イチ・ニー・サン・ヨン、ゴー・ロク・ナナ・ハチ" in readback
    assert step.state.wait.mode == "confirm"
    step = press(flow, step, "1", fake)
    assert fake.sent == [(1, MOBILE, "sms")]
    assert step.outcome == "completed"


def test_re_entry_with_2_asks_for_the_number_again_without_counting_a_try():
    flow = menu_flow(ask_number=True)
    flow, fake, step = call(caller="anonymous", flow=flow)
    step = press(flow, step, "1", fake)
    step = press(flow, step, "08011112222", fake)
    step = press(flow, step, "2", fake)
    assert step.state.wait.mode == "number" and step.state.entry.tries == 0
    step = press(flow, step, "07011112222", fake)
    step = press(flow, step, "1", fake)
    assert fake.sent == [(1, "+817011112222", "sms")]


@pytest.mark.parametrize("digits, problem", [
    ("0901234567", "length"), ("090123456789", "length"), ("05012345678", "ip_phone"),
    ("09001234567", "unassigned"), ("0312345678", "length"), ("03123456789", "not_mobile"),
])
def test_number_problems(digits, problem):
    from sms.rules import check_mobile

    assert number_problem(digits, check_mobile(digits)) == problem


def test_number_hearing_gives_up_after_the_menu_tries():
    flow = menu_flow(ask_number=True)
    flow, fake, step = call(caller="anonymous", flow=flow)
    step = press(flow, step, "1", fake)
    for _ in range(3):
        step = press(flow, step, "123", fake)
    assert fake.sent == []
    assert step.verbs[0] == Guidance(10) and step.outcome == "completed"


def test_refused_send_takes_cannot_send():
    fake = FakePorts(refuse="opted_out")
    flow, fake, step = call(fake=fake)
    step = press(flow, step, "1", fake)
    assert step.verbs[0] == Guidance(10)
    assert any("配信停止" in e.detail for e in step.events)


def test_voicemail_records_then_thanks():
    flow = spec("vm", node("vm", "voicemail", guidance=1, params={"max_seconds": 60}))
    _, fake, step = call(flow=flow)
    assert step.verbs == [Guidance(1), Record(60)]
    done = resume(flow, step.state, input_from_params("record", {"RecordingUrl": "https://x/r.wav",
                                                                 "RecordingDuration": "7"}), fake.ports())
    assert done.outcome == "voicemail" and done.verbs[-1] == Hangup()
    empty = resume(flow, step.state, input_from_params("record", {}), fake.ports())
    assert empty.outcome == "completed"


def test_routing_by_caller_starts_at_the_given_node():
    _, _, step = call(entry="sms_ng")
    assert step.events[0].node_key == "sms_ng"


def test_hangup_outcome():
    assert hangup_outcome(None, CallState(wait=Wait("main", "menu"))) == ("abandoned", True)
    assert hangup_outcome(None, CallState(wait=Wait("op", "dial"))) == ("transferred", False)
    assert hangup_outcome(None, CallState(wait=Wait("vm", "record"))) == ("voicemail", False)
    assert hangup_outcome("completed", CallState(wait=None)) == ("completed", False)


def test_a_node_removed_mid_call_is_a_flow_error():
    flow, fake, step = call()
    smaller = spec("main", *[n for k, n in flow.nodes.items() if k != "main"])
    with pytest.raises(FlowError, match="main"):
        resume(smaller, step.state, Keys("1"), fake.ports())
