"""Pure SMS rules used by every entry point (UI, API, IVR, bulk): characters (R-22), parts (R-23).

The number rules (R-21) live in core.phone. Nothing here touches Flask or the database, so the rules are
tested as plain functions and the bench can time them on their own.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.chars import describe_char

# --- characters (R-22) -----------------------------------------------------------------------------
SAFE_REPLACEMENTS: dict[str, str] = {
    "～": "〜",   # FULLWIDTH TILDE → WAVE DASH (what Windows IMEs type for 〜)
    "－": "−",   # FULLWIDTH HYPHEN-MINUS → MINUS SIGN
    "—": "―",   # EM DASH → HORIZONTAL BAR (JIS 1-29)
    "–": "−",
    "¦": "｜",
    "•": "・",
    "〝": "“",
    "〟": "”",
    "\u00a0": " ",
    "\u200b": "",
    "\ufeff": "",
    "\r\n": "\n",
    "\r": "\n",
    **{chr(0x2460 + i): f"({i + 1})" for i in range(20)},  # ①..⑳ → (1)..(20)
}
HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]+")
# Symbols carriers may garble (000: usable but not recommended): JIS X 0208 row 2 (symbols), rows 6-8
# (Greek, Cyrillic, box drawing) and the pictorial symbols of row 1.
SPECIAL_ROWS = {2, 6, 7, 8}
SPECIAL_ROW1 = set("∞∴♂♀°′″℃§☆★")


@dataclass(frozen=True)
class TextCheck:
    text: str                                   # normalised text (placeholders not yet expanded)
    length: int                                 # characters as sent (placeholders expanded)
    parts: int
    max_length: int
    replaced: tuple[tuple[str, str], ...] = ()  # (original, replacement), each pair once
    offending: tuple[str, ...] = ()             # characters ISO-2022-JP cannot carry, each once
    special: tuple[str, ...] = ()               # allowed but warned about
    errors: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def warnings(self) -> tuple[str, ...]:
        if not self.special:
            return ()
        return (TEXT_MESSAGES["special"].format(chars=" ".join(self.special)),)


TEXT_MESSAGES = {
    "empty": "本文を入力してください。",
    "offending": "ISO-2022-JP（JIS）で送信できない文字が含まれています: {chars}",
    "too_long": "本文が長すぎます（{length} 文字。最大 {max} 文字）。",
    "placeholder": "本文に {placeholder} がありますが、{what}が設定されていないため使えません。",
    "special": "特殊文字が含まれています（キャリアや端末によっては正しく表示されません）: {chars}",
}
PLACEHOLDER_WHAT = {"{url}": "URL"}
URL_PATTERN = re.compile(r"^https?://[^\s/]+\S*$")  # a box's or an API send's URL


def encodable(ch: str) -> bool:
    try:
        ch.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return True


def jis_row(ch: str) -> int:
    """The JIS X 0208 row (区) of a character, 0 for ASCII / JIS X 0201."""
    encoded = ch.encode("iso2022_jp")
    if encoded.startswith(b"\x1b$B") or encoded.startswith(b"\x1b$@"):
        return encoded[3] - 0x20
    return 0


def normalise(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Replace characters that have a safe ISO-2022-JP equivalent; returns the text and what was replaced."""
    replaced: dict[tuple[str, str], None] = {}
    for original, replacement in SAFE_REPLACEMENTS.items():
        if original in text:
            text = text.replace(original, replacement)
            if original not in "\r\n":
                replaced[(original, replacement)] = None

    def widen(match: re.Match) -> str:
        wide = unicodedata.normalize("NFKC", match.group(0))
        replaced[(match.group(0), wide)] = None
        return wide

    text = HALFWIDTH_KANA.sub(widen, text)
    out = []
    for ch in text:
        if ch.isascii() or encodable(ch):
            out.append(ch)
            continue
        compat = unicodedata.normalize("NFKC", ch)
        if compat != ch and compat and all(encodable(c) for c in compat):
            replaced[(ch, compat)] = None
            out.append(compat)
        else:
            out.append(ch)
    return "".join(out), list(replaced)


def count_parts(length: int) -> int:
    """Concatenated SMS: up to 70 characters is one message, longer texts use 67 characters a part."""
    if length <= 0:
        return 0
    if length <= 70:
        return 1
    return math.ceil(length / 67)


def check_text(text: str | None, *, max_length: int, expansions: Mapping[str, int | None] | None = None,
               field_names: Mapping[str, str] | None = None) -> TextCheck:
    """Normalise and judge an SMS text. `expansions` maps each placeholder to the length it becomes
    (None: the placeholder cannot be used here, e.g. {url} without a URL; `field_names` names the missing field)."""
    normalised, replaced = normalise(text or "")
    errors: list[str] = []
    if not normalised.strip():
        errors.append(TEXT_MESSAGES["empty"])
    offending = _unique(ch for ch in normalised if _offending(ch))
    if offending:
        errors.append(TEXT_MESSAGES["offending"].format(chars=" ".join(describe_char(c) for c in offending)))
    length = len(normalised)
    for placeholder, expanded in (expansions or {}).items():
        count = normalised.count(placeholder)
        if not count:
            continue
        if expanded is None:
            what = (field_names or {}).get(placeholder) or PLACEHOLDER_WHAT.get(placeholder, placeholder)
            errors.append(TEXT_MESSAGES["placeholder"].format(placeholder=placeholder, what=what))
            continue
        length += count * (expanded - len(placeholder))
    if length > max_length:
        errors.append(TEXT_MESSAGES["too_long"].format(length=length, max=max_length))
    special = _unique(ch for ch in normalised if not ch.isascii() and ch not in offending and _is_special(ch))
    return TextCheck(
        text=normalised, length=length, parts=count_parts(length), max_length=max_length,
        replaced=tuple(replaced), offending=tuple(offending), special=tuple(special), errors=tuple(errors),
    )


def _offending(ch: str) -> bool:
    """Not carried by ISO-2022-JP, or a control character (only the line break is allowed)."""
    if ch == "\n":
        return False
    if unicodedata.category(ch) in ("Cc", "Cs"):
        return True
    return not ch.isascii() and not encodable(ch)


def _is_special(ch: str) -> bool:
    return ch in SPECIAL_ROW1 or jis_row(ch) in SPECIAL_ROWS


def _unique(chars) -> list[str]:
    return list(dict.fromkeys(chars))
