"""What a TwiML document plays, in order and for how long, and where in it a caller hung up (R-04).

One TwiML document can play several things: the opening's <Play> and the menu's <Gather> go out together, and a
re-prompt plays the timeout or mis-entry guidance before the menu's own. So each document served is recorded as
a timeline: its items (the node, the part: greeting, menu prompt, timeout guidance…, the guidance, the seconds it
lasts) and when it was served (seconds since the call started). When the call ends, the status callback's
CallDuration (or the time the callback came) tells how far into the last document the caller got, and `place`
names the item that was playing.

Lengths: audio files have theirs (guidance.public.PlayItem.seconds); text spoken with <Say> is estimated from its
length; a <Gather> then listens for its timeout, a <Dial> rings, a <Record> records. Pure: no Flask, no database.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ivr.verbs import Dial, Gather, Guidance, Hangup, Record, Say

# Japanese read at telephone pace: about 7 characters a second, plus a breath before and after.
SAY_SECONDS_PER_CHARACTER = 0.15
SAY_PAUSE_SECONDS = 0.5
# When the callback's own arrival and CallDuration disagree by more than this, the callback was late (Twilio's
# retry) and CallDuration is believed; else the arrival time, finer than CallDuration's whole seconds, is.
CALLBACK_DRIFT_SECONDS = 1.5


@dataclass(frozen=True)
class Item:
    node: str
    part: str                  # ivr.messages.PART_LABELS
    guidance_id: int | None
    seconds: float


@dataclass(frozen=True)
class Timeline:
    served_at: float           # seconds since the call started when the document was served
    items: tuple[Item, ...]

    @property
    def seconds(self) -> float:
        return sum(item.seconds for item in self.items)

    def place(self, elapsed: float) -> Item | None:
        """The item playing `elapsed` seconds into the document (the last one once all have played)."""
        if not self.items:
            return None
        position = 0.0
        for item in self.items:
            position += item.seconds
            if elapsed < position:
                return item
        return self.items[-1]

    def to_json(self) -> str:
        return stored(self.served_at, items_json(self.items))

    @classmethod
    def from_json(cls, text: str | None) -> Timeline | None:
        """None for a call recorded before timelines (or a malformed row)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            items = tuple(Item(str(node), str(part), int(gid) if gid else None, float(seconds))
                          for node, part, gid, seconds in data["items"])
            return cls(float(data["at"]), items)
        except (ValueError, TypeError, KeyError):
            return None


def say_seconds(text: str) -> float:
    return round(len(text) * SAY_SECONDS_PER_CHARACTER + SAY_PAUSE_SECONDS, 1)


def build(verbs: Iterable, playlist: Callable[[int], list]) -> tuple[Item, ...]:
    """The items of the document the verbs render to; `playlist` gives a guidance's PlayItems."""
    items: list[Item] = []
    for verb in verbs:
        if isinstance(verb, Gather):
            items += [prompt_item(prompt, playlist) for prompt in verb.prompts]
            items.append(Item(verb.at.node, verb.at.part or "input_wait", None, float(verb.timeout)))
        elif isinstance(verb, (Guidance, Say)):
            items.append(prompt_item(verb, playlist))
        elif isinstance(verb, Dial):
            items.append(Item(verb.at.node, verb.at.part or "dialing", None, float(verb.timeout)))
        elif isinstance(verb, Record):
            items.append(Item(verb.at.node, verb.at.part or "recording", None, float(verb.max_seconds)))
        elif isinstance(verb, Hangup):
            break
    return tuple(items)


def prompt_item(prompt, playlist) -> Item:
    if isinstance(prompt, Say):
        return Item(prompt.at.node, prompt.at.part, None, say_seconds(prompt.text))
    seconds = sum(item.seconds if item.url else say_seconds(item.text) for item in playlist(prompt.guidance_id))
    return Item(prompt.at.node, prompt.at.part, prompt.guidance_id, round(seconds, 2))


def tags(verbs: Iterable) -> tuple:
    """Where each verb and prompt stands: with the verbs, the key of a cached timeline (verbs compare without it)."""
    out = []
    for verb in verbs:
        out.append(getattr(verb, "at", None))
        if isinstance(verb, Gather):
            out += [prompt.at for prompt in verb.prompts]
    return tuple(out)


def items_json(items: Iterable[Item]) -> str:
    return json.dumps([[i.node, i.part, i.guidance_id, i.seconds] for i in items], ensure_ascii=False)


def stored(served_at: float, items_text: str) -> str:
    """The column's JSON, from the items' JSON made once per cached document."""
    return f'{{"at": {served_at:.2f}, "items": {items_text}}}'


def elapsed_in_document(timeline: Timeline, call_duration: int | None, since_served: float) -> float:
    """How far into the document the caller got: from CallDuration (whole seconds from the start of the call) or,
    when the callback came at once, from its arrival (`since_served`, finer)."""
    if call_duration is None:
        return max(0.0, since_served)
    by_duration = call_duration - timeline.served_at
    if abs(by_duration - since_served) <= CALLBACK_DRIFT_SECONDS:
        return max(0.0, since_served)
    return max(0.0, by_duration)
