"""Telephone numbers as the IVR keeps them: E.164 (+81…), from what Twilio sends or staff type."""
from __future__ import annotations

import re
import unicodedata

import phonenumbers

SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー－ｰ()（）.．]")


def to_e164(raw: str) -> str | None:
    """A Japanese or international number typed by staff as E.164, or None when it cannot be a number."""
    text = SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "").strip())
    if not re.fullmatch(r"\+?\d{4,15}", text):
        return None
    try:
        parsed = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_dialled(raw: str) -> str:
    """Twilio's `To` (already E.164 from Twilio; domestic digits from a simulator are accepted too)."""
    return to_e164(raw) or (raw or "").strip()


def normalize_caller(raw: str) -> str:
    """Twilio's `From`: E.164 when it is a number, else kept as sent ("anonymous" for 非通知)."""
    text = (raw or "").strip()
    return to_e164(text) or text


def looks_like_number(text: str) -> bool:
    """Digits with the separators people type (full-width too), whole or in part: 090-3333, ０９０．３３."""
    stripped = SEPARATORS.sub("", unicodedata.normalize("NFKC", text or "").strip())
    return bool(re.fullmatch(r"\+?\d+", stripped))


def display(number: str) -> str:
    """+81312345678 → 03-1234-5678 for screens; anything else unchanged."""
    try:
        parsed = phonenumbers.parse(number, "JP")
    except phonenumbers.NumberParseException:
        return number
    if parsed.country_code != 81 or not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def number_search_term(raw: str | None) -> str:
    """What to look for inside stored E.164 numbers: 090-1234-5678 (full-width too) -> 9012345678."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return text
    if text.startswith("+"):
        return digits
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits
