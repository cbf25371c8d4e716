"""Spoken answers to a PB menu (音声認識): which choice a caller's words (Twilio's SpeechResult) name.

Each choice has keywords (「1: 予約, よやく, 予約したい」). Words and keywords are compared as written and as read:
Open JTalk gives the katakana reading, so 「よやくしたいです」, 「ヨヤク」 and 「予約」 all name 予約. The longest
keyword found wins; an answer below the confidence threshold, or naming no choice, is a mis-entry.
"""
from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence

from core.config import setting

HIRAGANA = re.compile(r"[\u3041-\u3096]")
NOT_WORD = re.compile(r"[\s\u3000、。，．,.!?！？・「」『』（）()ー-]+")  # punctuation, spaces and long-vowel marks


def katakana(text: str) -> str:
    return HIRAGANA.sub(lambda m: chr(ord(m.group()) + 0x60), text)


def plain(text: str) -> str:
    """Width, case and kana folded, punctuation and long-vowel marks dropped: 「ＳＭＳ」 = 「sms」, 「よやく」 = 「ヨヤク」."""
    return NOT_WORD.sub("", katakana(unicodedata.normalize("NFKC", text)).upper())


@functools.lru_cache(maxsize=4096)
def reading(text: str) -> str:
    """The katakana reading (Open JTalk), folded as `plain`."""
    os.environ.setdefault("OPEN_JTALK_DICT_DIR", setting("guidance.openjtalk_dict_dir"))
    import pyopenjtalk

    normalized = unicodedata.normalize("NFKC", text).strip()
    return plain(pyopenjtalk.g2p(normalized, kana=True)) if normalized else ""


def choose(keywords: Mapping[str, Sequence[str]], said: str, confidence: float | None,
           threshold: float) -> str | None:
    """The digit whose keyword the caller said, or None (no match, or too unsure)."""
    if confidence is not None and confidence < threshold:
        return None
    said_text, said_reading = plain(said), reading(said)
    best: tuple[int, str] | None = None
    for digit, words in keywords.items():
        for word in words:
            text, read = plain(word), reading(word)
            if (text and text in said_text) or (read and read in said_reading):
                score = max(len(text), len(read))
                if best is None or score > best[0]:
                    best = (score, digit)
    return best[1] if best else None


def hints(keywords: Mapping[str, Sequence[str]]) -> str:
    """Twilio's hints: every keyword, comma separated."""
    return ",".join(word for words in keywords.values() for word in words)


def parse_keywords(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """The editor's lines 「1: 予約, よやく」 → {"1": ["予約", "よやく"]}, and problems (Japanese)."""
    found: dict[str, list[str]] = {}
    problems = []
    for line in text.splitlines():
        if not line.strip():
            continue
        digit, sep, words = unicodedata.normalize("NFKC", line).partition(":")
        digit = digit.strip()
        if not sep or not re.fullmatch(r"[0-9*#]{1,20}", digit):
            problems.append(f"音声で受け付ける言葉は「1: 予約, よやく」のように 番号: 言葉 で書いてください（{line.strip()[:20]}）。")
            continue
        listed = [w.strip() for w in re.split(r"[,、]", words) if w.strip()]
        if listed:
            found.setdefault(digit, []).extend(listed)
    return found, problems


def keywords_text(keywords: Mapping[str, Sequence[str]]) -> str:
    return "\n".join(f"{digit}: {', '.join(words)}" for digit, words in keywords.items())
