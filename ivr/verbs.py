"""What the engine and Twilio say to each other: the verbs a step asks Twilio to perform (ivr.twiml renders
them as TwiML) and the inputs Twilio reports back when a verb that waits has finished.

Verbs are frozen and hashable: a step's verbs are the key of the rendered-TwiML cache (ivr.calls.rendered).
Each verb also says where it stands in the flow (`at`: the node and the part it plays, see ivr.timeline); that
tag is not part of a verb's equality (the TwiML does not depend on it), so the timeline cache keys on it apart.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.inputs import int_or


# --- verbs (engine → Twilio) ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class At:
    """Where a verb stands: the node and what part of it plays (ivr.timeline.PART_LABELS: greeting, menu_prompt…)."""

    node: str = ""
    part: str = ""


NOWHERE = At()


def _at():
    return field(default=NOWHERE, compare=False)


@dataclass(frozen=True)
class Guidance:
    guidance_id: int
    at: At = _at()


@dataclass(frozen=True)
class Say:
    text: str
    at: At = _at()


@dataclass(frozen=True)
class Gather:
    num_digits: int
    timeout: int
    prompts: tuple[Prompt, ...]
    finish_on_key: str = ""  # R-09b: no finish key for menus
    at: At = _at()           # the node that waits for the keys
    hints: str = ""          # a menu that also takes speech: its keywords (input="dtmf speech")


@dataclass(frozen=True)
class Dial:
    number: str
    timeout: int
    at: At = _at()
    record: bool = False  # record the conversation from the answer, both sides (通話録音)


@dataclass(frozen=True)
class Record:
    max_seconds: int
    at: At = _at()


@dataclass(frozen=True)
class Hangup:
    pass


Prompt = Guidance | Say  # what a Gather plays while it listens
Verb = Guidance | Say | Gather | Dial | Record | Hangup


# --- inputs (Twilio → engine) -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Keys:
    digits: str  # "" when the Gather timed out
    said: str | None = None          # a spoken answer (Twilio's SpeechResult) instead of keys
    confidence: float | None = None  # Twilio's Confidence (0–1) of what was said


@dataclass(frozen=True)
class DialEnded:
    status: str
    seconds: int = 0


@dataclass(frozen=True)
class Recorded:
    url: str | None
    seconds: int = 0


Input = Keys | DialEnded | Recorded


MAX_REPORTED_SECONDS = 24 * 3600  # Twilio ends a call after 4 hours: a longer duration is not a real one


def input_from_params(mode: str, params: Mapping[str, str]) -> Input:
    """The input a webhook request carries, read as the waiting mode (ivr.state.Wait.mode) expects it."""
    if mode == "dial":
        return DialEnded(params.get("DialCallStatus", "") or "no-answer", _int(params.get("DialCallDuration")))
    if mode == "record":
        return Recorded(params.get("RecordingUrl") or None, _int(params.get("RecordingDuration")))
    said = (params.get("SpeechResult") or "").strip()
    if mode == "menu" and said and not params.get("Digits"):
        return Keys("", said=said[:200], confidence=_confidence(params.get("Confidence")))
    return Keys((params.get("Digits") or "").strip())


def _confidence(value) -> float | None:
    """Twilio's Confidence: a number 0–1; anything else counts as unknown (the threshold then does not apply)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0.0 <= number <= 1.0 else None


def _int(value) -> int:
    """Seconds Twilio reports: a non-number counts as 0 and more than a day as a day, rather than failing the call."""
    return int_or(value, 0, maximum=MAX_REPORTED_SECONDS)
