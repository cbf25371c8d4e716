"""The engine's verbs as TwiML, built with twilio's VoiceResponse.

Every <Gather> is followed by a <Redirect> to the same action URL: with no input Twilio would
otherwise go on to the end of the document and hang up (the timeout branch would never run).
"""
from __future__ import annotations

from typing import Callable, Iterable

from twilio.twiml.voice_response import Gather as TwilioGather
from twilio.twiml.voice_response import VoiceResponse

from ivr import messages as msg
from ivr.verbs import Dial, Gather, Hangup, Record, Say

LANGUAGE = "ja-JP"
Playlist = Callable[[int], list]  # guidance id → [PlayItem(url | None, text)]


RECORD_DIAL = "record-from-answer-dual"  # both sides, each on its own channel, from the moment the callee answers


def render(verbs: Iterable, action_url: str, playlist: Playlist, recording_url: str = "",
           speech_timeout: str = "auto") -> VoiceResponse:
    """VoiceResponse for a step; `action_url` is where Gather, Redirect, Dial and Record report back,
    `recording_url` where Twilio reports a recorded transfer's recording."""
    response = VoiceResponse()
    for verb in verbs:
        if isinstance(verb, Gather):
            speech = {"input": "dtmf speech", "language": LANGUAGE, "hints": verb.hints,
                      "speech_timeout": speech_timeout} if verb.hints else {"input": "dtmf"}
            gather = TwilioGather(num_digits=verb.num_digits, timeout=verb.timeout, finish_on_key=verb.finish_on_key,
                                  action=action_url, method="POST", **speech)
            for prompt in verb.prompts:
                add_prompt(gather, prompt, playlist)
            response.append(gather)
            response.redirect(action_url, method="POST")
        elif isinstance(verb, Dial):
            recording = {"record": RECORD_DIAL, "recording_status_callback": recording_url,
                         "recording_status_callback_method": "POST",
                         "recording_status_callback_event": "completed"} if verb.record else {}
            response.dial(verb.number, timeout=verb.timeout, action=action_url, method="POST", **recording)
        elif isinstance(verb, Record):
            response.record(max_length=verb.max_seconds, action=action_url, method="POST", play_beep=True,
                            finish_on_key="#")
            response.redirect(action_url, method="POST")
        elif isinstance(verb, Hangup):
            response.hangup()
        else:
            add_prompt(response, verb, playlist)
    return response


def add_prompt(parent, prompt, playlist: Playlist) -> None:
    """<Play> each voice file of a guidance; text without audio yet is spoken with <Say>."""
    if isinstance(prompt, Say):
        parent.say(prompt.text, language=LANGUAGE)
        return
    for item in playlist(prompt.guidance_id):
        if item.url:
            parent.play(item.url)
        elif item.text:
            parent.say(item.text, language=LANGUAGE)


def say_and_hang_up(text: str) -> VoiceResponse:
    """A fixed Japanese message, then the end of the call."""
    response = VoiceResponse()
    response.say(text, language=LANGUAGE)
    response.hangup()
    return response


def unknown_number() -> VoiceResponse:
    return say_and_hang_up(msg.UNKNOWN_NUMBER)


def system_error() -> VoiceResponse:
    return say_and_hang_up(msg.SYSTEM_ERROR)


def rejected() -> VoiceResponse:
    """A blocked caller: refused without answering (no charge to the caller)."""
    response = VoiceResponse()
    response.reject(reason="rejected")
    return response
