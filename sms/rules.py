"""Pure SMS rules used by every entry point (UI, API, IVR, bulk): numbers (R-21), characters (R-22), parts (R-23).

Nothing here touches Flask or the database, so the rules are tested as plain functions and the
bench can time them on their own.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

import phonenumbers
from phonenumbers import PhoneNumberType

# --- numbers (R-21) --------------------------------------------------------------------------------
# Separators people type between digit groups; all are dropped before parsing.
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー－ｰ﹣()（）.．]")
WITHHELD_VALUES = {"", "anonymous", "restricted", "unknown", "private", "unavailable", "+266696687", "+7378742833",
                   "+2562533", "+86282452253", "+8656"}
MOBILE_PREFIXES = ("060", "070", "080", "090")


@dataclass(frozen=True)
class NumberCheck:
    ok: bool
    e164: str | None
    reason: str | None
    withheld: bool = False


NUMBER_REASONS = {
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


def _refuse(key: str, **fmt) -> NumberCheck:
    return NumberCheck(False, None, NUMBER_REASONS[key].format(**fmt), withheld=key == "withheld")


def is_withheld(raw: str | None) -> bool:
    """Twilio's From for a withheld (非通知) caller: empty, 'anonymous', or one of its placeholder numbers."""
    return (raw or "").strip().lower() in WITHHELD_VALUES


def national_digits(raw: str) -> tuple[str, str]:
    """(digits as dialled in Japan, characters that are not digits); full-width digits and +81 accepted."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = SEPARATORS.sub("", text)
    if text.startswith("+81"):
        text = "0" + text[3:]
    elif text.startswith("+"):
        return text, ""  # another country: left for the caller to refuse
    bad = "".join(sorted({ch for ch in text if not ("0" <= ch <= "9")}))
    return text, bad


def check_mobile(raw: str | None) -> NumberCheck:
    """Whether `raw` is a Japanese mobile number that can receive SMS; E.164 when it is, a Japanese reason when not."""
    if raw is None or not str(raw).strip():
        return _refuse("empty")
    if is_withheld(raw):
        return _refuse("withheld")
    digits, bad = national_digits(str(raw))
    if digits.startswith("+"):
        return _refuse("foreign")
    if bad:
        return _refuse("characters", chars=" ".join(describe_char(ch) for ch in bad))
    verdict = _prefix_verdict(digits)
    if verdict is not None:
        return verdict
    try:
        parsed = phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:
        return _refuse("invalid")
    if not phonenumbers.is_valid_number(parsed):
        return _refuse("invalid")
    kind = phonenumbers.number_type(parsed)
    if kind != PhoneNumberType.MOBILE:
        return _refuse(_TYPE_REASONS.get(kind, "invalid"))
    return NumberCheck(True, phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None)


_TYPE_REASONS = {
    PhoneNumberType.VOIP: "ip_phone",
    PhoneNumberType.PAGER: "m2m",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.UAN: "navi_dial",
    PhoneNumberType.SHARED_COST: "navi_dial",
    PhoneNumberType.PREMIUM_RATE: "navi_dial",
}


def _prefix_verdict(digits: str) -> NumberCheck | None:
    """Reasons the prefix alone gives, so people read why (phonenumbers stays the final judge)."""
    if not digits.startswith("0"):
        return _refuse("foreign") if len(digits) > 11 else _refuse("invalid")
    if digits.startswith("050"):
        return _refuse("ip_phone")
    if digits.startswith("020"):
        return _refuse("m2m")
    if digits.startswith(MOBILE_PREFIXES) and len(digits) == 11 and digits[3] == "0" and digits[:3] != "060":
        # 080-0… is also how 0800 free-dial numbers look; either way it is no mobile.
        return _refuse("unassigned", prefix=digits[:3])
    if digits.startswith(("0120", "0800")):
        return _refuse("toll_free")
    if digits.startswith("0570"):
        return _refuse("navi_dial")
    if digits.startswith(MOBILE_PREFIXES) and len(digits) != 11:
        return _refuse("mobile_length", count=len(digits))
    return None


def display_number(e164: str | None) -> str:
    """+819012345678 → 090-1234-5678 for screens; other values unchanged."""
    if not e164 or not e164.startswith("+81") or len(e164) != 13:
        return e164 or ""
    national = "0" + e164[3:]
    return f"{national[:3]}-{national[3:7]}-{national[7:]}"


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


def check_text(text: str | None, *, max_length: int, expansions: Mapping[str, int | None] | None = None) -> TextCheck:
    """Normalise and judge an SMS text. `expansions` maps each placeholder to the length it becomes
    (None: the placeholder cannot be used here, e.g. {url} without a URL)."""
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
            what = PLACEHOLDER_WHAT.get(placeholder, placeholder)
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


def describe_char(ch: str) -> str:
    """「髙」(U+9AD9) — the character and its code point, so invisible ones can be found too."""
    if unicodedata.category(ch) in UNPRINTABLE:
        return f"制御文字(U+{ord(ch):04X})"
    return f"「{ch}」(U+{ord(ch):04X})"


UNPRINTABLE = {"Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"}


def _is_special(ch: str) -> bool:
    return ch in SPECIAL_ROW1 or jis_row(ch) in SPECIAL_ROWS


def _unique(chars) -> list[str]:
    return list(dict.fromkeys(chars))
