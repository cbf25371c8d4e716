"""The voice webhooks driven exactly as Twilio drives them: signed form posts, TwiML parsed and followed."""
from dataclasses import replace

import pytest

from guidance.public import playlist
from ivr import messages as msg
from ivr.models import Call, CallEvent
from sms.models import Message
from tests.ivr.builders import menu_flow
from tests.ivr.conftest import FLOW_NUMBER

MOBILE = "+819012345678"


def urls(guidance_id):
    return [item.url for item in playlist(guidance_id)]


def events(call):
    record = Call.get(Call.call_sid == call.sid)
    return [(e.kind, e.node_key, e.digits) for e in CallEvent.select().where(CallEvent.call == record.id)
            .order_by(CallEvent.id)]


def test_answer_plays_greeting_and_gathers_one_digit_then_redirects(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    root = call.root
    assert root.find("./Play").text == urls(guidance["greeting"])[0]
    gather = root.find("./Gather[@input='dtmf'][@numDigits='1'][@timeout='5']")
    assert gather is not None and gather.get("finishOnKey") == "" and gather.get("method") == "POST"
    assert [p.text for p in gather.findall("./Play")] == urls(guidance["menu"])
    assert gather.get("action") == "http://localhost/twilio/voice/step/1"
    assert root.find("./Redirect").text == gather.get("action")
    assert all(url.startswith("http://localhost/audio/") and url.endswith(".wav") for url in call.plays())


def test_correct_choice_queues_one_sms_and_says_so(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    call.press("1")
    assert call.plays() == urls(guidance["sent"]) and call.hung_up
    message = Message.get(Message.call_sid == call.sid)
    assert (message.to_number, message.box_number, message.source, message.state) == (MOBILE, 1, "ivr", "queued")
    record = Call.get(Call.call_sid == call.sid)
    assert record.outcome == "completed" and record.last_node_key == "bye"
    assert ("digit", "main", "1") in events(call)
    call.hang_up(12)
    record = Call.get(Call.call_sid == call.sid)
    assert (record.outcome, record.duration_seconds, record.abandoned_node_key) == ("completed", 12, None)


def test_timeout_then_correct_choice(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    call.wait()
    gather = call.gather
    assert [p.text for p in gather.findall("./Play")] == urls(guidance["timeout"]) + urls(guidance["menu"])
    assert gather.get("action").endswith("/step/2")
    call.press("1")
    assert Message.select().where(Message.call_sid == call.sid).count() == 1
    assert [e for e in events(call) if e[0] in ("timeout", "digit")] == [("timeout", "main", ""), ("digit", "main", "1")]


def test_wrong_digit_then_correct_choice(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    call.press("7")
    assert [p.text for p in call.gather.findall("./Play")] == urls(guidance["mis_entry"]) + urls(guidance["menu"])
    call.press("3")
    assert ("mis_entry", "main", "7") in events(call) and ("digit", "main", "3") in events(call)


def test_three_timeouts_reach_the_fallback_but_two_and_a_wrong_digit_ask_again(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    call.wait()
    call.press("9")
    call.wait()
    assert call.gather is not None  # R-09b: timeouts and mis-entries are counted apart
    call.wait()
    assert call.gather is None and call.hung_up
    assert call.plays() == urls(guidance["closing"])
    record = Call.get(Call.call_sid == call.sid)
    assert record.outcome == "retry_limit" and record.last_node_key == "closing"
    assert (record.call_state().tries, record.call_state().misses) == ({"main": 3}, {"main": 1})


@pytest.mark.parametrize("keys", [("9", "8", "7"), ("", "", "")])
def test_three_of_one_kind_take_the_retry_branch(phone, menu_flow_saved, keys):
    call = phone.dial(FLOW_NUMBER)
    for digits in keys:
        call.press(digits) if digits else call.wait()
    record = Call.get(Call.call_sid == call.sid)
    assert call.hung_up and (record.outcome, record.last_node_key) == ("retry_limit", "closing")


def test_coming_back_to_the_menu_resets_both_counts(phone, guidance, box, save_flow):
    flow = menu_flow(guidance)
    flow.nodes["busy"] = replace(flow.nodes["busy"], exits={"next": "main"})  # operator busy: back to the menu
    save_flow(flow)
    call = phone.dial(FLOW_NUMBER)
    call.wait()
    call.wait()
    call.press("9")
    call.press("8")
    call.press("2")
    call.dial_ended("busy")
    assert call.gather is not None and call.plays()[0] == urls(guidance["busy"])[0]  # the menu, entered anew
    for _ in range(2):
        call.wait()
        call.press("9")
    assert call.gather is not None and not call.hung_up  # 2 + 2 in this visit: asked again
    record = Call.get(Call.call_sid == call.sid)
    assert (record.call_state().tries, record.call_state().misses, record.call_state().failures) == (
        {"main": 2}, {"main": 2}, 8)
    call.wait()
    assert call.hung_up and Call.get(Call.call_sid == call.sid).outcome == "retry_limit"


def test_repeated_gather_post_sends_no_second_sms_and_answers_the_same(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    action = call.gather.get("action")
    first = call.press("1")
    again = phone.post(action, call.params(Digits="1"))
    assert again.get_data(as_text=True) == call.responses[-1]
    assert Message.select().where(Message.call_sid == call.sid).count() == 1
    assert len([e for e in events(call) if e[0] == "digit"]) == 1
    assert first.find("./Hangup") is not None


def test_replayed_timeout_does_not_count_a_second_try(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    redirect = call.root.find("./Redirect").text
    call.wait()
    replay = phone.post(redirect, call.params())
    assert replay.get_data(as_text=True) == call.responses[-1]
    assert Call.get(Call.call_sid == call.sid).call_state().tries == {"main": 1}


def test_repeated_voice_webhook_keeps_one_call(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    again = phone.post("http://localhost/twilio/voice", call.params(CallStatus="ringing"))
    assert again.get_data(as_text=True) == call.responses[0]
    assert Call.select().where(Call.call_sid == call.sid).count() == 1


def test_unsigned_or_wrongly_signed_posts_are_refused(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    action = call.gather.get("action")
    params = call.params(Digits="1")
    assert phone.client.post("/twilio/voice/step/1", data=params, csrf=False).status_code == 403
    assert phone.post(action, params, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
    from core.twilio import signature_for

    other_token = signature_for(action, params, token="someone-elses-token")
    assert phone.post(action, params, signature=other_token).status_code == 403
    tampered = signature_for(action, call.params(Digits="2"))
    assert phone.post(action, params, signature=tampered).status_code == 403
    assert phone.post("http://localhost/twilio/voice/status", call.params(CallStatus="completed"),
                      signature="x").status_code == 403
    assert Message.select().count() == 0
    assert Call.get(Call.call_sid == call.sid).ended_at is None


def test_unknown_number_hears_a_polite_message_and_is_hung_up(phone, menu_flow_saved):
    call = phone.dial("+815099998888")
    assert call.spoken() == [("Say", msg.UNKNOWN_NUMBER)]
    assert call.root.find("./Say").get("language") == "ja-JP" and call.hung_up
    assert Call.get(Call.call_sid == call.sid).outcome == "error"


def test_hang_up_during_the_mis_entry_guidance_is_abandonment_there(phone, menu_flow_saved, clock):
    call = phone.dial(FLOW_NUMBER)
    clock.advance(seconds=8)
    call.press("8")
    clock.advance(seconds=1)
    call.hang_up(9)
    record = Call.get(Call.call_sid == call.sid)
    assert (record.outcome, record.abandoned_node_key, record.abandoned_node_name) == ("abandoned", "main", "メインメニュー")
    assert (record.abandoned_part, record.abandoned_guidance_name) == ("mis_entry", "テスト_mis_entry")
    assert record.ended_at is not None and record.duration_seconds == 9
    hangup = CallEvent.get((CallEvent.call == record.id) & (CallEvent.kind == "hangup"))
    assert "途中放棄: メインメニュー（入力ミス時ガイダンス: テスト_mis_entry）" in hangup.detail
    call.hang_up(9)  # a repeated callback changes nothing
    assert CallEvent.select().where((CallEvent.call == record.id) & (CallEvent.kind == "hangup")).count() == 1


def test_transfer_answered_and_not_answered(phone, menu_flow_saved, guidance):
    call = phone.dial(FLOW_NUMBER)
    call.press("2")
    dial = call.root.find("./Dial[@timeout='20']")
    assert dial is not None and dial.text == "+81312345678"
    call.dial_ended("completed", 65)
    assert call.hung_up and Call.get(Call.call_sid == call.sid).outcome == "transferred"

    missed = phone.dial(FLOW_NUMBER)
    missed.press("2")
    missed.dial_ended("no-answer")
    assert missed.plays() == urls(guidance["busy"]) + urls(guidance["closing"])


def test_hang_up_while_transferring_counts_as_transferred(phone, menu_flow_saved):
    call = phone.dial(FLOW_NUMBER)
    call.press("2")
    call.hang_up(40)
    assert Call.get(Call.call_sid == call.sid).outcome == "transferred"


def test_guidance_without_audio_is_said_in_japanese(phone, guidance, box, save_flow):
    from guidance.models import VoiceFile
    from tests.ivr.builders import menu_flow

    VoiceFile.update(audio_hash=None).execute()
    save_flow(menu_flow(guidance))
    call = phone.dial(FLOW_NUMBER)
    says = call.root.findall(".//Say[@language='ja-JP']")
    assert [s.text for s in says] == ["お電話ありがとうございます。", "ご用件の番号を押してください。"]
    assert call.plays() == []


def test_changed_guidance_audio_is_played_once_the_twiml_reuse_window_ends(phone, menu_flow_saved, guidance,
                                                                           monkeypatch):
    from guidance.models import GuidanceItem, VoiceFile
    from ivr import calls

    seconds = [500.0]
    monkeypatch.setattr(calls, "monotonic", lambda: seconds[0])
    before = phone.dial(FLOW_NUMBER).plays()[0]
    item = GuidanceItem.get(GuidanceItem.guidance == guidance["greeting"])
    VoiceFile.update(audio_hash="e" * 64).where(VoiceFile.id == item.voice_file_id).execute()
    assert phone.dial(FLOW_NUMBER).plays()[0] == before  # the same TwiML, reused within the window
    seconds[0] += calls.TWIML_SECONDS
    assert phone.dial(FLOW_NUMBER).plays()[0] == f"http://localhost/audio/{'e' * 64}.wav"
