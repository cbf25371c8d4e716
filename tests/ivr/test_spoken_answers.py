"""Spoken answers (音声認識) to a PB menu: the Gather also listens (ja-JP, hints from the choices' keywords); the
platform matches Twilio's SpeechResult to a choice itself, by text and by Open JTalk's kana reading; no match or
low confidence is a mis-entry with its guidance; keys still work; the record and the report keep speech apart."""
from __future__ import annotations

import dataclasses

import pytest
from playwright.sync_api import expect

from ivr import speech
from ivr.models import Call, CallEvent
from reports.models import DailyChoice
from tests.ivr.builders import menu_flow
from tests.ivr.conftest import FLOW_NUMBER
from tests.ivr.phone import Phone
from tests.ivr.test_simulator_recordings import call_from_the_simulator

KEYWORDS = {"1": ["予約", "よやく", "予約したい"], "2": ["オペレーター", "担当者"], "3": ["営業時間"]}


@pytest.mark.parametrize(("said", "confidence", "expected"), [
    ("よやくしたいです", 0.9, "1"),
    ("ヨヤク", 0.8, "1"),
    ("予約をお願いします", 0.7, "1"),
    ("ﾖﾔｸ", 0.7, "1"),               # half-width, as some recognisers write
    ("担当の人と話したい", 0.9, None),  # 担当 alone is not 担当者
    ("たんとうしゃをおねがい", 0.9, "2"),
    ("オペレータ", 0.9, "2"),          # the long-vowel mark left out
    ("えーと", 0.9, None),
    ("よやくしたいです", 0.2, None),   # too unsure
    ("よやく", None, "1"),              # Twilio gave no confidence: the words decide
])
def test_what_the_caller_said_names_a_choice(app, said, confidence, expected):
    assert speech.choose(KEYWORDS, said, confidence, 0.5) == expected


def test_the_editor_lines_become_keywords_and_back():
    keywords, problems = speech.parse_keywords("1: 予約, よやく、予約したい\n\n２: 担当者\nオペレーター")
    assert keywords == {"1": ["予約", "よやく", "予約したい"], "2": ["担当者"]}
    assert len(problems) == 1 and "番号: 言葉" in problems[0]
    assert speech.keywords_text(keywords) == "1: 予約, よやく, 予約したい\n2: 担当者"


@pytest.fixture
def speech_menu(guidance, box, save_flow):
    flow = menu_flow(guidance)
    main = flow.nodes["main"]
    flow.nodes["main"] = dataclasses.replace(main, params={**main.params, "keywords": KEYWORDS})
    return save_flow(flow)


def spoken(phone_call, said: str, confidence: float):
    gather = phone_call.gather
    return phone_call.answer(phone_call.phone.post(gather.get("action"), phone_call.params(
        SpeechResult=said, Confidence=str(confidence))))


def test_a_spoken_answer_takes_its_choice_and_nonsense_is_a_mis_entry(client, speech_menu, guidance):
    phone = Phone(client)
    call = phone.dial(FLOW_NUMBER)
    gather = call.gather
    assert (gather.get("input"), gather.get("language"), gather.get("speechTimeout")) == ("dtmf speech", "ja-JP", "auto")
    assert gather.get("hints") == "予約,よやく,予約したい,オペレーター,担当者,営業時間"
    menu_audio = call.plays()[-1]

    spoken(call, "えーと", 0.2)  # unsure and naming nothing: the mis-entry guidance, then the menu again
    mis_entry_audio = call.plays()
    assert call.gather is not None and len(mis_entry_audio) >= 2 and mis_entry_audio[-1] == menu_audio
    spoken(call, "よやくしたいです", 0.9)
    assert call.gather is None  # choice 1 (SMS) was taken

    record = Call.get(Call.call_sid == call.sid)
    events = [(e.kind, e.digits, e.detail) for e in CallEvent.select().where(CallEvent.call == record.id)
              .order_by(CallEvent.id) if e.kind in ("speech", "mis_entry", "digit")]
    assert events[0][0:2] == ("mis_entry", "") and events[0][2].startswith("音声「えーと」（信頼度 0.20）: 該当する分岐なし")
    assert events[1] == ("speech", "1", "音声「よやくしたいです」（信頼度 0.90） → SMS送信")

    keys = phone.dial(FLOW_NUMBER)
    keys.press("3")  # keys still work in the same menu
    assert CallEvent.select().where((CallEvent.kind == "digit") & (CallEvent.digits == "3")).count() == 1


def test_the_report_counts_speech_and_keys_apart(client, clock, speech_menu):
    from reports.jobs import refresh_reports

    phone = Phone(client)
    spoken(phone.dial(FLOW_NUMBER), "予約したい", 0.95)
    phone.dial(FLOW_NUMBER).press("1")
    phone.dial(FLOW_NUMBER).press("1")
    clock.set("2026-01-07 13:00")
    refresh_reports()
    counted = {(row.kind, row.digits): row.count for row in DailyChoice.select()}
    assert counted[("speech", "1")] == 1 and counted[("digit", "1")] == 2


def test_the_demo_menu_accepts_speech_out_of_the_box(app):
    from ivr.demo import DEMO_KEYWORDS

    assert speech.choose(DEMO_KEYWORDS, "ショートメッセージで送ってください", 0.9, 0.5) == "1"
    assert speech.choose(DEMO_KEYWORDS, "えすえむえす", 0.9, 0.5) == "1"
    assert speech.choose(DEMO_KEYWORDS, "たんとうしゃ", 0.9, 0.5) == "2"
    assert speech.choose(DEMO_KEYWORDS, "営業時間を教えて", 0.9, 0.5) == "3"


@pytest.mark.browser
@pytest.mark.sqlite_only
def test_the_simulator_answers_a_menu_by_typed_speech(page, live_server, browser_login, speech_menu):
    call_from_the_simulator(page, live_server, browser_login)
    page.locator("#sim-say:not([hidden])").wait_for(timeout=15000)
    page.fill("#sim-say-text", "えーと")
    page.fill("#sim-say-confidence", "0.2")
    page.click("#sim-say button[type=submit]")
    expect(page.locator("#sim-events tr.ev-mis_entry")).to_have_count(1)
    page.locator("#sim-say:not([hidden])").wait_for()
    page.fill("#sim-say-text", "よやくしたいです")
    page.fill("#sim-say-confidence", "0.9")
    page.click("#sim-say button[type=submit]")
    expect(page.locator("#sim-events tr.ev-speech")).to_contain_text("よやくしたいです")
    page.locator("#simulator[data-state='ended']").wait_for(timeout=20000)
    call = Call.get(Call.call_sid == page.locator("#simulator").get_attribute("data-call-sid"))
    assert CallEvent.get((CallEvent.call == call.id) & (CallEvent.kind == "speech")).digits == "1"
