"""Telephone numbers, in one place: what staff type and Twilio sends → E.164, what kind of number it is, how
every screen shows it, how searches find it, and whether it can take an SMS (R-21), with a Japanese reason.

Built on phonenumbers (it knows 050 = IP phone, 090-0… unassigned, 020 = M2M). Pure: no Flask, no database.
Numbers are stored as E.164 (+81…); a withheld caller is stored as Twilio sent it ("anonymous", +266696687 …).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from core.chars import describe_char

REGION = "JP"
JAPAN = 81
# Separators people type between digit groups (hyphens and dashes of every width, the katakana prolonged sound
# mark, the small hyphen-minus, brackets, dots, spaces); all are dropped before parsing.
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー－ｰ﹣()（）.．]")
# Twilio's From for a caller who hid the number (非通知): a word, or a placeholder number that spells the word on
# a keypad (+266696687 ANONYMOUS, +7378742833 RESTRICTED, +2562533 BLOCKED, +86282452253 UNAVAILABLE, +8656 UNKN…).
WITHHELD_VALUES = frozenset({"", "anonymous", "restricted", "blocked", "unknown", "private", "unavailable",
                             "+266696687", "+7378742833", "+2562533", "+86282452253", "+8656"})
WITHHELD_LABEL = "非通知"
MOBILE_PREFIXES = ("060", "070", "080", "090")
# 0x0-0… of these is never given out to a mobile (000: 090-0XXX is unassigned); 060-0… is simply no number.
UNASSIGNED_PREFIXES = ("070", "080", "090")
MOBILE_DIGITS = 11
# Digits (a + first for another country) that may be a number at all; anything else is never parsed.
NUMBER_TEXT = re.compile(r"\+?\d{4,15}", re.ASCII)
# The fast path of check_mobile: phonenumbers' own pattern for Japanese mobile numbers after the trunk 0, so it
# cannot disagree with the full check (tests/foundation/test_phone.py compares the two over every prefix).
_JAPAN_METADATA = phonenumbers.PhoneMetadata.metadata_for_region(REGION)
WELL_FORMED_MOBILE = re.compile(f"0(?:{_JAPAN_METADATA.mobile.national_number_pattern})", re.ASCII)
# What a bulk list's numbers almost always look like: ASCII digits, grouped 3-4-4 by plain hyphens or spaces or
# not at all. Such a text skips normalisation; its digits still go through WELL_FORMED_MOBILE, and any other
# text takes the full path (tests/foundation/test_phone.py compares both for every 0x0-xxxx prefix).
PLAIN_MOBILE = re.compile(r"0[6-9]0[- ]?[0-9]{4}[- ]?[0-9]{4}", re.ASCII)


class Kind(StrEnum):
    """What a number is, as far as this platform cares."""

    MOBILE = "mobile"          # 060/070/080/090-[1-9]…: takes SMS
    IP_PHONE = "ip_phone"      # 050
    LANDLINE = "landline"      # 03-…, 06-…, 0467-…
    TOLL_FREE = "toll_free"    # 0120, 0800
    NAVI_DIAL = "navi_dial"    # 0570, 0990 and other shared-cost / premium numbers
    M2M = "m2m"                # 020 (data cards, pagers)
    OTHER = "other"            # another valid Japanese service
    FOREIGN = "foreign"        # a valid number of another country
    WITHHELD = "withheld"      # 非通知
    UNASSIGNED = "unassigned"  # 070/080/090-0…: shaped like a mobile number, never given out
    INVALID = "invalid"        # not a complete number


TYPE_KINDS = {
    PhoneNumberType.MOBILE: Kind.MOBILE,
    PhoneNumberType.VOIP: Kind.IP_PHONE,
    PhoneNumberType.FIXED_LINE: Kind.LANDLINE,
    PhoneNumberType.TOLL_FREE: Kind.TOLL_FREE,
    PhoneNumberType.PAGER: Kind.M2M,
    PhoneNumberType.UAN: Kind.NAVI_DIAL,
    PhoneNumberType.SHARED_COST: Kind.NAVI_DIAL,
    PhoneNumberType.PREMIUM_RATE: Kind.NAVI_DIAL,
}


# --- reading numbers ---------------------------------------------------------------------------------------------
def compact(raw: str | None) -> str:
    """The text without separators, full-width folded to ASCII: ０９０－１２３４ → 0901234."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "").strip())


def parse(raw: str | None) -> phonenumbers.PhoneNumber | None:
    """phonenumbers' reading of digits (Japanese, or another country's after +), complete or not; None for text."""
    text = compact(raw)
    if not NUMBER_TEXT.fullmatch(text):
        return None
    try:
        return phonenumbers.parse(text, REGION)
    except phonenumbers.NumberParseException:
        return None


def to_e164(raw: str | None, *, complete: bool = True) -> str | None:
    """E.164 of a typed number, None when it is not a complete number (phonenumbers' is_valid_number).

    complete=False also takes numbers that merely have a possible length (a fictional demo number)."""
    parsed = parse(raw)
    if parsed is None:
        return None
    usable = phonenumbers.is_valid_number(parsed) if complete else phonenumbers.is_possible_number(parsed)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164) if usable else None


def is_complete(raw: str | None) -> bool:
    """Whether `raw` is a whole, valid number (090-1234-56 is not)."""
    return to_e164(raw) is not None


def e164_or_text(raw: str | None) -> str:
    """Twilio's From/To or a setting: E.164 when it can be a number, else the text as sent ("anonymous")."""
    text = (raw or "").strip()
    return to_e164(text, complete=False) or text


def is_withheld(raw: str | None) -> bool:
    """Twilio's From for a withheld (非通知) caller: empty, 'anonymous', or one of its placeholder numbers."""
    return (raw or "").strip().lower() in WITHHELD_VALUES


def classify(raw: str | None) -> Kind:
    """What kind of number `raw` is (an empty From is withheld, as Twilio means it)."""
    if is_withheld(raw):
        return Kind.WITHHELD
    parsed = parse(raw)
    if parsed is None:
        return Kind.INVALID
    if not phonenumbers.is_valid_number(parsed):
        japanese = parsed.country_code == JAPAN
        return Kind.UNASSIGNED if japanese and is_unassigned_mobile(national(parsed)) else Kind.INVALID
    if parsed.country_code != JAPAN:
        return Kind.FOREIGN
    return TYPE_KINDS.get(phonenumbers.number_type(parsed), Kind.OTHER)


def national(parsed: phonenumbers.PhoneNumber) -> str:
    """The digits as dialled inside Japan: +819012345678 → 09012345678."""
    return "0" + phonenumbers.national_significant_number(parsed)


def is_unassigned_mobile(digits: str) -> bool:
    """070/080/090 followed by 0, 11 digits: never a mobile number (080-0… is also how 0800 free dial looks)."""
    return len(digits) == MOBILE_DIGITS and digits[:3] in UNASSIGNED_PREFIXES and digits[3] == "0"


# --- showing and finding numbers --------------------------------------------------------------------------------
def display(number: str | None) -> str:
    """How every screen shows a number: 090-1234-5678, 03-1234-5678, 0120-123-456, 050-1234-5678; another
    country's as +1 415-555-0100; 非通知 for a withheld caller; text that is no number unchanged."""
    text = (number or "").strip()
    if not text:
        return ""
    if is_withheld(text):
        return WITHHELD_LABEL
    parsed = parse(text)
    if parsed is None:
        return text
    if parsed.country_code == JAPAN:
        grouped = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
        # phonenumbers groups only numbers it has a pattern for; an incomplete one keeps its bare digits.
        return grouped if grouped.startswith("0") else national(parsed)
    if phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)
    return text


def looks_like_number(text: str | None) -> bool:
    """Digits with the separators people type (full-width too), whole or in part: 090-3333, ０９０．３３."""
    return bool(re.fullmatch(r"\+?\d+", compact(text), re.ASCII))


def search_term(raw: str | None) -> str:
    """What to look for inside stored E.164 numbers: 090-1234-5678 (full-width too) → 9012345678; text unchanged."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    digits = re.sub(r"\D", "", text, flags=re.ASCII)
    if not digits:
        return text
    if text.startswith("+"):
        return digits
    return digits[1:] if digits.startswith("0") and len(digits) > 1 else digits


# --- numbers typed into a form -----------------------------------------------------------------------------------
ENTRY_MESSAGES = {
    "characters": "{field}「{raw}」は電話番号として正しくありません。数字とハイフンで入力してください。",
    "incomplete": "{field}「{raw}」は電話番号として正しくありません。市外局番から最後の桁まで入力してください"
                  "（例: 090-1234-5678 / 03-1234-5678、海外の番号は + と国番号から）。",
}


def parse_entry(raw: str | None, field: str) -> tuple[str | None, str | None]:
    """(E.164, None) for a complete number typed into `field`, else (None, a Japanese message naming the field)."""
    e164 = to_e164(raw)
    if e164 is not None:
        return e164, None
    shown = (raw or "").strip()
    key = "characters" if not looks_like_number(shown) else "incomplete"
    return None, ENTRY_MESSAGES[key].format(field=field, raw=shown)


# --- SMS recipients (R-21) ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NumberCheck:
    ok: bool
    e164: str | None
    reason: str | None        # Japanese, for people; None when ok
    code: str | None = None   # why not: a key of MOBILE_REASONS; None when ok

    @property
    def withheld(self) -> bool:
        return self.code == "withheld"


MOBILE_REASONS = {
    "empty": "電話番号を入力してください。",
    "withheld": "非通知の着信のため、SMS を送信できません。",
    "characters": "電話番号に使えない文字が含まれています（{chars}）。数字とハイフンで入力してください。",
    "foreign": "日本の携帯電話番号（060・070・080・090 で始まる 11 桁）のみ送信できます。",
    "ip_phone": "050 から始まる番号は IP 電話のため、SMS を送信できません。",
    "m2m": "020 から始まる番号は M2M（データ通信・ポケベル）用のため、SMS を送信できません。",
    "unassigned": "{prefix}-0 から始まる番号は携帯電話に割り当てられていない番号のため、送信できません。",
    "mobile_length": "携帯電話番号は 11 桁です（入力は {count} 桁）。",
    "toll_free": "フリーダイヤル等の番号には SMS を送信できません。",
    "navi_dial": "ナビダイヤル等の番号には SMS を送信できません。",
    "landline": "固定電話の番号には SMS を送信できません。携帯電話番号を入力してください。",
    "invalid": "電話番号として正しくありません。携帯電話番号（060・070・080・090 で始まる 11 桁）を入力してください。",
}


def check_mobile(raw: str | None) -> NumberCheck:
    """Whether `raw` is a Japanese mobile number that can receive SMS; E.164 when it is, a Japanese reason when not."""
    e164 = plain_mobile_e164(raw)
    if e164 is not None:
        return NumberCheck(True, e164, None)
    return check_mobile_fully(raw)


def plain_mobile_e164(raw: str | None) -> str | None:
    """The E.164 of a plain, well-formed mobile number (090-1234-5678, 09012345678), None for any other text
    (which check_mobile then judges in full). A list of 100,000 numbers is checked this way in a fraction of a second."""
    if raw.__class__ is str and PLAIN_MOBILE.fullmatch(raw):
        digits = raw.replace("-", "").replace(" ", "")
        if WELL_FORMED_MOBILE.fullmatch(digits):
            return "+81" + digits[1:]
    return None


def check_mobile_fully(raw: str | None) -> NumberCheck:
    """check_mobile without the shortcut for plain ASCII numbers (every input, normalised, then phonenumbers)."""
    if raw is None or not str(raw).strip():
        return _refuse("empty")
    if is_withheld(raw):
        return _refuse("withheld")
    digits, bad = national_digits(str(raw))
    if WELL_FORMED_MOBILE.fullmatch(digits):
        return NumberCheck(True, "+81" + digits[1:], None)
    if digits.startswith("+"):
        return _refuse("foreign")
    if bad:
        return _refuse("characters", chars=" ".join(describe_char(ch) for ch in bad))
    verdict = _prefix_verdict(digits)
    if verdict is not None:
        return verdict
    try:
        parsed = phonenumbers.parse(digits, REGION)
    except phonenumbers.NumberParseException:
        return _refuse("invalid")
    if not phonenumbers.is_valid_number(parsed):
        return _refuse("invalid")
    kind = TYPE_KINDS.get(phonenumbers.number_type(parsed), Kind.INVALID)
    if kind != Kind.MOBILE:
        return _refuse(kind.value if kind.value in MOBILE_REASONS else "invalid")
    return NumberCheck(True, phonenumbers.format_number(parsed, PhoneNumberFormat.E164), None)


def check_mobile_many(raws: Iterable[str | None]) -> list[NumberCheck]:
    """check_mobile for a list, in order (bulk sends); each distinct input is judged once."""
    judged: dict[str | None, NumberCheck] = {}
    out = []
    for raw in raws:
        result = judged.get(raw)
        if result is None:
            result = judged[raw] = check_mobile(raw)
        out.append(result)
    return out


def national_digits(raw: str) -> tuple[str, str]:
    """(digits as dialled in Japan, characters that are not digits); full-width digits and +81 accepted.
    Another country's number keeps its + (and is not searched for bad characters)."""
    text = compact(raw)
    if text.startswith("+81"):
        text = "0" + text[3:]
    elif text.startswith("+"):
        return text, ""
    bad = "".join(sorted({ch for ch in text if not ("0" <= ch <= "9")}))
    return text, bad


def _refuse(code: str, **fmt) -> NumberCheck:
    return NumberCheck(False, None, MOBILE_REASONS[code].format(**fmt), code)


def _prefix_verdict(digits: str) -> NumberCheck | None:
    """Reasons the prefix alone gives, so people read why (phonenumbers stays the final judge)."""
    if not digits.startswith("0"):
        return _refuse("foreign") if len(digits) > MOBILE_DIGITS else _refuse("invalid")
    if digits.startswith("050"):
        return _refuse("ip_phone")
    if digits.startswith("020"):
        return _refuse("m2m")
    if is_unassigned_mobile(digits):
        return _refuse("unassigned", prefix=digits[:3])
    if digits.startswith(("0120", "0800")):
        return _refuse("toll_free")
    if digits.startswith("0570"):
        return _refuse("navi_dial")
    if digits.startswith(MOBILE_PREFIXES) and len(digits) != MOBILE_DIGITS:
        return _refuse("mobile_length", count=len(digits))
    return None
