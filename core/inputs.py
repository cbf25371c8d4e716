"""The one set of parsers for what people and programs send: integers, dates, datetimes and JSON bodies.

Every parser refuses with InputError, whose message is Japanese and names the field, so a page shows it beside
the kept input and the API returns it in its error shape. What they refuse is what reached the database or the
date arithmetic as a 500 before: digits other than ASCII ("²".isdigit() is True, int("²") fails; "٣" would
pass int()), numbers no column holds, years Python's date arithmetic overflows on (date.max + 1 day),
JSON nested past what the parser's recursion allows, NaN/Infinity, and lone surrogates (neither
PostgreSQL nor SQLite's driver can store them).
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from typing import Any

from flask import request

from core.db import MAX_ID
from core.security import api_error

INT_MAX = MAX_ID                    # an integer column (32-bit on PostgreSQL)
MIN_YEAR, MAX_YEAR = 1900, 2100     # dates people and clients may ask for
MAX_JSON_DEPTH = 20
MAX_INT_TEXT = 19                   # digits worth converting: past this no bound of ours is met anyway
NUL_REFUSED = "入力に使用できない文字（NUL 文字）が含まれています。入力内容を確認してください。"

INTEGER = re.compile(r"-?[0-9]+")
DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
MONTH = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})")
DATETIME = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
SURROGATE = re.compile("[\ud800-\udfff]")
SHOWN_INPUT = 30  # characters of a refused value repeated in the message

JSON_SHAPES = {dict: "オブジェクト（{…}）", list: "配列（[…]）"}


class InputError(ValueError):
    """Input that cannot be used; `message` is Japanese and names the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def spaced(label: str) -> str:
    """`label` ready for a particle: "limit " (an ASCII name gets a space before は/を), "件数" as it is."""
    return label + " " if label[-1:].isascii() else label


def figure(number: int) -> str:
    """A bound as the message writes it: 2,147,483,647 but 9999 and 1900 (box numbers, years)."""
    return f"{number:,}" if abs(number) >= 10_000 else str(number)


def shown(raw) -> str:
    """A refused value as the message repeats it: short, and without characters that would break the page."""
    text = SURROGATE.sub("\ufffd", str(raw)).replace("\x00", "")
    return text if len(text) <= SHOWN_INPUT else text[:SHOWN_INPUT] + "…"


def typed(raw, label: str, required: bool = False) -> str:
    """What was typed, without surrounding spaces; blank is refused when `required`."""
    text = "" if raw is None else str(raw).strip()
    if not text and required:
        raise InputError(f"{spaced(label)}を入力してください。")
    return text


# --- integers --------------------------------------------------------------------------------------------------------
def parse_int(raw, label: str, *, minimum: int = 0, maximum: int = INT_MAX, default: int | None = None,
              required: bool = False) -> int | None:
    """ASCII digits (with "-" when `minimum` < 0) within [minimum, maximum]; blank gives `default`."""
    text = typed(raw, label, required)
    if not text:
        return default
    if not INTEGER.fullmatch(text):
        raise InputError(f"{spaced(label)}は半角数字（整数）で入力してください（入力: {shown(text)}）。")
    if len(text.lstrip("-").lstrip("0")) > MAX_INT_TEXT or not minimum <= int(text) <= maximum:
        raise InputError(f"{spaced(label)}は {figure(minimum)}〜{figure(maximum)} の範囲で入力してください（入力: {shown(text)}）。")
    return int(text)


def int_or(raw, default: int, *, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """Lenient: a page number and the like; anything unusable is `default`, anything out of range the nearest bound."""
    text = "" if raw is None else str(raw).strip()
    if not INTEGER.fullmatch(text):
        return default
    if len(text.lstrip("-").lstrip("0")) > MAX_INT_TEXT:
        return minimum if text.startswith("-") else maximum
    return min(max(int(text), minimum), maximum)


def json_int(value, label: str, *, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """An integer a JSON body carries: a number without fraction (not true/false, not a string), within bounds."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{spaced(label)}は整数で指定してください。")
    if not minimum <= value <= maximum:
        raise InputError(f"{spaced(label)}は {figure(minimum)}〜{figure(maximum)} の整数で指定してください（値: {shown(value)}）。")
    return value


# --- dates -----------------------------------------------------------------------------------------------------------
def parse_date(raw, label: str, *, default: dt.date | None = None, required: bool = False) -> dt.date | None:
    """YYYY-MM-DD (or YYYY/MM/DD) in ASCII digits: a real day from 1900 to 2100; blank gives `default`."""
    text = typed(raw, label, required)
    if not text:
        return default
    match = DATE.fullmatch(text)
    if match is None:
        raise InputError(f"{spaced(label)}は YYYY-MM-DD の形式で入力してください（入力: {shown(text)}）。")
    return _checked(label, text, "日付", lambda: dt.date(*map(int, match.groups())))


def parse_datetime(raw, label: str, *, default: dt.datetime | None = None,
                   required: bool = False) -> dt.datetime | None:
    """YYYY-MM-DD HH:MM[:SS] (a T, or slashes, also do) in ASCII digits, 1900 to 2100; blank gives `default`."""
    text = typed(raw, label, required)
    if not text:
        return default
    match = DATETIME.fullmatch(text)
    if match is None:
        raise InputError(f"{spaced(label)}は YYYY-MM-DD HH:MM の形式で入力してください（入力: {shown(text)}）。")
    parts = [int(part or 0) for part in match.groups()]
    return _checked(label, text, "日時", lambda: dt.datetime(*parts))


def _checked(label: str, text: str, noun: str, make):
    try:
        value = make()
    except ValueError:
        raise InputError(f"{spaced(label)}に存在しない{noun}が指定されています（入力: {shown(text)}）。") from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise InputError(f"{spaced(label)}は {MIN_YEAR}〜{MAX_YEAR} 年の{noun}で入力してください（入力: {shown(text)}）。")
    return value


def parse_month(raw, label: str, *, default: dt.date | None = None) -> dt.date | None:
    """YYYY-MM in ASCII digits, 1900 to 2100: the month's first day; blank gives `default`."""
    text = typed(raw, label)
    if not text:
        return default
    match = MONTH.fullmatch(text)
    if match is None:
        raise InputError(f"{spaced(label)}は YYYY-MM の形式で入力してください（入力: {shown(text)}）。")
    return _checked(label, text, "月", lambda: dt.date(int(match.group(1)), int(match.group(2)), 1))


def parse_year(raw, label: str, *, default: int | None = None) -> int | None:
    """A year from 1900 to 2100 (ASCII digits)."""
    return parse_int(raw, label, minimum=MIN_YEAR, maximum=MAX_YEAR, default=default)


# --- JSON ------------------------------------------------------------------------------------------------------------
def parse_json(data: bytes | str, *, expect: type | None = dict, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON document with finite numbers, no lone surrogates, nested at most `max_depth` deep, and (when
    `expect` is dict or list) of that shape at the top."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise InputError(_too_deep(max_depth)) from None
    except InputError:
        raise
    except ValueError:  # malformed, not UTF-8 (UnicodeDecodeError), or an integer of more than 4300 digits
        raise InputError("リクエスト本文を JSON として読み取れません。形式を確認してください。") from None
    _check_tree(value, max_depth)
    if expect is not None and not isinstance(value, expect):
        raise InputError(f"リクエスト本文は JSON {JSON_SHAPES.get(expect, '')}で送信してください。")
    return value


def json_body(*, expect: type | None = dict, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The request's JSON body, parsed by parse_json; a body not sent as application/json is refused too."""
    if not request.is_json:
        raise InputError("リクエスト本文は JSON で送信してください（Content-Type: application/json）。")
    return parse_json(request.get_data(cache=True), expect=expect, max_depth=max_depth)


def json_request(view):
    """View decorator: the request's JSON object (json_body) comes as the view's first argument; a body that
    cannot be used is answered in the API's error shape: 400, code "invalid_json", the Japanese reason."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            body = json_body()
        except InputError as error:
            return api_error("invalid_json", error.message, 400)
        return view(body, *args, **kwargs)

    return wrapper


def _refuse_constant(name: str):
    raise InputError(f"JSON に使用できない数値（{name}）が含まれています。有限の数値で指定してください。")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses as infinity
        _refuse_constant(text)
    return value


def _too_deep(max_depth: int) -> str:
    return f"JSON の入れ子が深すぎます（{max_depth} 段まで）。"


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth and lone surrogates, without recursion (the document is already bounded by the parser)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            _refuse_surrogates(item)
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            raise InputError(_too_deep(max_depth))
        if isinstance(item, dict):
            for key in item:
                _refuse_surrogates(key)
            children = item.values()
        else:
            children = item
        pending.extend((child, depth + 1) for child in children)


def _refuse_surrogates(text: str) -> None:
    if SURROGATE.search(text):
        raise InputError("JSON に使用できない文字（対になっていないサロゲート \\ud800 など）が含まれています。")


# --- every request ---------------------------------------------------------------------------------------------------
def carries_nul_character() -> bool:
    """PostgreSQL can neither store nor compare text holding NUL, so such a request would end in a 500."""
    if "\x00" in request.path:
        return True
    values = [*request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        return True
    # JSON spells NUL as an escape; file uploads (audio, CSV) legitimately hold NUL bytes and are not looked at.
    return request.is_json and b"\\u0000" in request.get_data(cache=True).lower()
