"""Webhooks for the SMS hearing (R-09), business hours with the clock, caller rules (R-09a) and voicemail."""
from guidance.public import playlist
from ivr import messages as msg
from ivr.models import Call, CallerRule, CallEvent
from sms.models import Message
from tests.ivr.builders import menu_flow, node, spec
from tests.ivr.conftest import FLOW_NUMBER


def urls(guidance_id):
    return [item.url for item in playlist(guidance_id)]


def says(call):
    return [text for tag, text in call.spoken() if tag == "Say"]


def test_withheld_caller_choosing_sms_takes_the_cannot_send_branch(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER, caller="anonymous")
    call.press("1")
    assert call.plays() == urls(guidance["ng"]) + urls(guidance["closing"]) and call.hung_up
    assert Message.select().count() == 0
    record = Call.get(Call.call_sid == call.sid)
    assert record.from_number == "anonymous" and record.last_node_key == "closing"
    sms_events = [e.detail for e in CallEvent.select().where((CallEvent.call == record.id) & (CallEvent.kind == "sms"))]
    assert any("非通知" in d for d in sms_events)


def test_landline_caller_keys_in_a_wrong_number_then_a_mobile_and_confirms(phone, guidance, box, save_flow):
    save_flow(menu_flow(guidance, ask_number=True))
    call = phone.dial(FLOW_NUMBER, caller="+81312345678")
    call.press("1")
    gather = call.gather
    assert (gather.get("numDigits"), gather.get("finishOnKey"), gather.get("timeout")) == ("11", "#", "10")
    assert says(call) == [msg.NUMBER_ENTRY_PROMPT]

    call.press("0901234567")  # ten digits, ended with # (Twilio strips the finish key)
    assert says(call) == [msg.NUMBER_PROBLEMS["length"], msg.NUMBER_ENTRY_PROMPT]
    call.press("09001234567")
    assert says(call)[0] == msg.NUMBER_PROBLEMS["unassigned"]

    call.press("08098765432")
    assert call.gather.get("numDigits") == "1"
    readback = says(call)[0]
    assert readback.startswith("入力された番号は、ゼロ・ハチ・ゼロ、キュウ・ハチ・ナナ・ロク、ゴー・ヨン・サン・ニー、です。")
    call.press("1")
    assert call.plays() == urls(guidance["sent"]) and call.hung_up
    message = Message.get(Message.call_sid == call.sid)
    assert (message.to_number, message.box_number) == ("+818098765432", 1)


def test_number_entry_re_enter_with_2(phone, guidance, box, save_flow):
    save_flow(menu_flow(guidance, ask_number=True))
    call = phone.dial(FLOW_NUMBER, caller="anonymous")
    call.press("1")
    call.press("07011112222")
    call.press("2")
    assert says(call) == [msg.NUMBER_ENTRY_PROMPT]
    call.press("07033334444")
    call.press("1")
    assert [m.to_number for m in Message.select()] == ["+817033334444"]


def test_out_of_hours_and_holiday_routing_follow_the_clock(phone, menu_flow_saved, guidance, clock):
    clock.set("2026-01-05 10:00")  # Monday
    call = phone.dial(FLOW_NUMBER)
    call.press("3")
    assert call.plays()[:1] == urls(guidance["open"])

    clock.set("2026-01-05 19:30")
    call = phone.dial(FLOW_NUMBER)
    call.press("3")
    assert call.plays()[:1] == urls(guidance["closed"])

    clock.set("2026-01-01 10:00")  # 元日, a Thursday
    call = phone.dial(FLOW_NUMBER)
    call.press("3")
    assert call.plays()[:1] == urls(guidance["closed"])
    record = Call.get(Call.call_sid == call.sid)
    hours = CallEvent.get((CallEvent.call == record.id) & (CallEvent.node_key == "hours"))
    assert "休日（元日）" in hours.detail


def test_company_holiday_closes_the_hours_branch(phone, menu_flow_saved, guidance, clock):
    from core.models import CompanyHoliday

    CompanyHoliday.create(day="2026-01-06", name="創立記念日")
    clock.set("2026-01-06 11:00")  # a Tuesday
    call = phone.dial(FLOW_NUMBER)
    call.press("3")
    assert call.plays()[:1] == urls(guidance["closed"])


def test_blocked_caller_is_rejected_and_a_vip_gets_their_own_menu(phone, menu_flow_saved, guidance):
    CallerRule.create(number="+819011110000", action="block")
    CallerRule.create(number="+819022220000", action="route", flow=menu_flow_saved.id, node_key="operator")
    blocked = phone.dial(FLOW_NUMBER, caller="+819011110000")
    assert blocked.root.find("./Reject[@reason='rejected']") is not None
    assert Call.get(Call.call_sid == blocked.sid).outcome == "completed"

    vip = phone.dial(FLOW_NUMBER, caller="+819022220000")
    assert vip.root.find("./Dial").text == "+81312345678"

    CallerRule.create(number="withheld", action="block", flow=menu_flow_saved.id)
    withheld = phone.dial(FLOW_NUMBER, caller="anonymous")
    assert withheld.root.find("./Reject") is not None


def test_voicemail_records_and_ends(phone, guidance, save_flow):
    save_flow(spec("vm", node("vm", "voicemail", name="留守電", guidance=guidance["closed"],
                              params={"max_seconds": 60})))
    call = phone.dial(FLOW_NUMBER)
    record = call.root.find("./Record[@maxLength='60']")
    assert record is not None and record.get("action").endswith("/step/1")
    call.recorded("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", 7)
    assert says(call) == [msg.VOICEMAIL_THANKS] and call.hung_up
    assert Call.get(Call.call_sid == call.sid).outcome == "voicemail"


def test_a_flow_replaced_mid_call_finishes_on_the_version_it_started_with(phone, menu_flow_saved, guidance,
                                                                          save_flow):
    from ivr.store import save_flow as store

    call = phone.dial(FLOW_NUMBER)
    smaller = spec("closing", node("closing", "hangup", guidance=guidance["closing"]))
    store(smaller, name="差し替え", number=FLOW_NUMBER, flow=menu_flow_saved)
    call.press("1")  # the menu of the version the call started on: 1 sends the SMS
    assert call.plays() == urls(guidance["sent"]) and call.hung_up
    assert Call.get(Call.call_sid == call.sid).outcome == "completed"
    assert phone.dial(FLOW_NUMBER).plays() == urls(guidance["closing"])
