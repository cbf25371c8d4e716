"""The engine as a plain function: (flow, state, input) → verbs, events, state, outcome (no Flask, no database)."""
import datetime as dt
from dataclasses import replace

import pytest

from ivr import messages as msg
from ivr.engine import MAX_CALL_FAILURES, hangup_outcome, resume, start
from ivr.number_entry import number_problem
from ivr.spec import FlowError
from ivr.state import CallState, Wait
from ivr.verbs import Dial, DialEnded, Gather, Guidance, Hangup, Keys, Record, Say, input_from_params
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
    assert step.state.tries == {"main": 1} and step.state.misses == {}
    assert step.events[0].kind == "timeout" and "タイムアウト 1/3" in step.events[0].detail


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


def presses(flow, step, fake, *keys):
    for digits in keys:
        step = press(flow, step, digits, fake)
    return step


def test_two_timeouts_and_a_wrong_digit_ask_again():
    flow, fake, step = call()
    step = presses(flow, step, fake, "", "", "9")
    assert step.verbs == [Gather(1, 5, (Guidance(4), Guidance(2)))]
    assert (step.state.tries, step.state.misses, step.state.failures) == ({"main": 2}, {"main": 1}, 3)
    assert "入力ミス 1/3" in step.events[0].detail


@pytest.mark.parametrize("keys, kind", [(("", "", ""), "timeout"), (("9", "8", "7"), "mis_entry")])
def test_three_of_one_kind_take_the_retry_branch_and_count_retry_limit(keys, kind):
    flow, fake, step = call()
    step = presses(flow, step, fake, *keys)
    assert step.verbs == [Guidance(6), Hangup()]
    assert step.outcome == "retry_limit" and step.last_node.key == "closing"
    assert step.events[0].kind == kind and "3/3" in step.events[0].detail and "リトライ上限" in step.events[0].detail


def test_each_kind_has_its_own_limit():
    flow = menu_flow()
    flow.nodes["main"] = replace(flow.nodes["main"], max_tries=1, max_mis_entries=2)
    _, fake, step = call(flow=flow)
    assert press(flow, step, "9", fake).state.wait == Wait("main", "menu")  # 1 of 2 mis-entries
    assert press(flow, step, "", fake).outcome == "retry_limit"            # 1 of 1 timeouts


def test_coming_back_to_the_menu_resets_both_counts():
    flow = menu_flow()
    flow.nodes["busy"] = replace(flow.nodes["busy"], exits={"next": "main"})  # no operator: back to the menu
    _, fake, step = call(flow=flow)
    step = presses(flow, step, fake, "", "9", "", "9", "2")
    step = press(flow, step, "", fake, DialEnded("no-answer"))
    assert step.state.wait == Wait("main", "menu") and (step.state.tries, step.state.misses) == ({}, {})
    assert step.state.failures == 4  # the flow-level count goes on
    step = presses(flow, step, fake, "", "9", "", "9")
    assert step.state.wait == Wait("main", "menu")


def test_the_flow_level_guard_ends_a_call_that_loops_through_a_menu():
    loop = spec("m", node("m", "menu", guidance=2, max_tries=1, exits={"1": "end", "fallback": "m"}),
                node("end", "hangup"))
    _, fake, step = call(flow=loop)
    for _ in range(MAX_CALL_FAILURES - 1):
        step = press(loop, step, "", fake)
        assert step.state.wait == Wait("m", "menu")
    step = press(loop, step, "", fake)
    assert step.outcome == "retry_limit" and step.state.wait is None
    assert step.verbs == [Say(msg.TOO_MANY_FAILURES), Hangup()]


def test_after_the_retry_branch_whatever_comes_is_retry_limit():
    flow = menu_flow()
    flow.nodes["main"] = replace(flow.nodes["main"], exits={**flow.nodes["main"].exits, "fallback": "operator"})
    _, fake, step = call(flow=flow)
    step = presses(flow, step, fake, "", "", "")
    assert step.state.wait == Wait("operator", "dial") and step.state.retry_limited
    assert press(flow, step, "", fake, DialEnded("completed", 30)).outcome == "retry_limit"
    assert hangup_outcome(None, step.state) == ("retry_limit", False)


def test_tries_start_again_when_a_choice_leads_back_into_the_menu():
    flow = spec("m", node("m", "menu", guidance=2, max_mis_entries=2, exits={"1": "back", "fallback": "end"}),
                node("back", "goto", exits={"target": "m"}), node("end", "hangup"))
    _, fake, step = call(flow=flow)
    step = press(flow, step, "5", fake)
    step = press(flow, step, "1", fake)   # back to the same menu: entered anew
    assert step.state.misses == {} and step.state.failures == 1
    step = press(flow, step, "5", fake)
    assert step.state.wait == Wait("m", "menu")
    assert press(flow, step, "5", fake).outcome == "retry_limit"


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
    from core.phone import check_mobile

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
