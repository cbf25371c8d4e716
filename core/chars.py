"""Naming characters in messages for people, so invisible or look-alike ones can be found too."""
from __future__ import annotations

import unicodedata

# Categories with no visible glyph: controls, format characters, private use, unassigned, line separators.
UNPRINTABLE = {"Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"}


def describe_char(ch: str) -> str:
    """「髙」(U+9AD9) — the character and its code point; 制御文字(U+0007) when it cannot be shown."""
    if unicodedata.category(ch) in UNPRINTABLE:
        return f"制御文字(U+{ord(ch):04X})"
    return f"「{ch}」(U+{ord(ch):04X})"
