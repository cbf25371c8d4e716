"""Text normalisation before speech synthesis (R-14). Pure functions, no engine needed.

Japanese IVRs read telephone numbers, reception numbers and other codes digit by digit
("03-1234-5678" → "ゼロサンのイチニーサンヨンのゴーロクナナハチ"), and times and dates naturally
("9:00〜18:00" → "9時から18時まで", "2026/1/5" → "2026年1月5日"). Quantities ("10000円") are left to the engine,
which reads them as numbers.
"""
from __future__ import annotations

import re
import unicodedata

DIGIT_READINGS = {"0": "ゼロ", "1": "イチ", "2": "ニー", "3": "サン", "4": "ヨン",
                  "5": "ゴー", "6": "ロク", "7": "ナナ", "8": "ハチ", "9": "キュー"}
WEEKDAYS = {"月": "月曜日", "火": "火曜日", "水": "水曜日", "木": "木曜日", "金": "金曜日", "土": "土曜日", "日": "日曜日"}
SYMBOL_READINGS = {"#": "シャープ", "*": "コメジルシ", "〒": "郵便番号"}

# Hyphen-like characters people type between digit groups (after NFKC): ASCII hyphen, hyphen, non-breaking
# hyphen, figure dash, en/em dash, minus sign, and the long-vowel mark that Japanese IMEs often produce.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212\u30fc"
WAVES = "〜~"  # "from … to" between times (～ becomes ~ under NFKC)
# Counters after which a long number is a quantity, not a code: "123456円" is read as a number.
UNITS = ("円", "件", "人", "名", "個", "回", "枚", "本", "歳", "年", "ヶ月", "か月", "カ月", "月", "日", "時間", "分", "秒",
         "台", "冊", "%", "倍", "点", "ポイント", "度", "階", "番目", "キロ", "メートル", "グラム", "万", "億", "千", "百")

_D = f"[{re.escape(DASHES)}]"
FULL_DATE = re.compile(r"(?<!\d)([12]\d{3})\s*(?:[/.]|" + _D + r")\s*(\d{1,2})\s*(?:[/.]|" + _D + r")\s*(\d{1,2})(?!\d)")
MONTH_DAY = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
WEEKDAY_PAREN = re.compile(r"(日)\s*[(]\s*([月火水木金土日])(?:曜日?)?\s*[)]")
TIME = re.compile(r"(?<![\d:])([01]?\d|2[0-4]):([0-5]\d)(?![\d:])")
TIME_RANGE = re.compile(r"(\d{1,2}時(?:\d{1,2}分|半)?)\s*[" + WAVES + re.escape(DASHES) + r"]\s*(\d{1,2}時(?:\d{1,2}分|半)?)(\s*まで)?")
DIGIT_GROUPS = re.compile(r"(?<![\d.])\d{1,5}(?:" + _D + r"\d{1,5}){1,3}(?![\d.])")
THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
LONG_NUMBER = re.compile(r"(?<![\d.])(\d+)(?![\d.])")
JAPANESE_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
SPACES = re.compile(r"\s+")


def normalize_width(text: str) -> str:
    """Full-width letters and digits to half width, half-width kana to full width, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    return SPACES.sub(" ", text).strip()


def is_japanese(text: str) -> bool:
    """True when the text has kana or kanji (then only Open JTalk can read it)."""
    return bool(JAPANESE_CHAR.search(text))


def read_digits(digits: str) -> str:
    """"0312" → "ゼロサンイチニー": one reading per digit, as IVRs read numbers."""
    return "".join(DIGIT_READINGS[d] for d in digits)


def read_digit_groups(match_text: str) -> str:
    """"03-1234-5678" → groups read digit by digit, joined by "の" as a number is read aloud."""
    groups = re.split(_D, match_text)
    return "の".join(read_digits(group) for group in groups)


def _full_date(m: re.Match) -> str:
    year, month, day = m.group(1), int(m.group(2)), int(m.group(3))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{year}年{month}月{day}日"


def _month_day(m: re.Match) -> str:
    month, day = int(m.group(1)), int(m.group(2))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return m.group(0)
    return f"{month}月{day}日"


def _time(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    return f"{hour}時" + (f"{minute}分" if minute else "")


def _long_number(m: re.Match, text: str) -> str:
    digits = m.group(1)
    following = text[m.end():]
    is_code = (digits.startswith("0") and len(digits) >= 2) or len(digits) >= 6
    if is_code and not following.startswith(UNITS):
        return read_digits(digits)
    return digits


def normalize_dates_and_times(text: str) -> str:
    text = FULL_DATE.sub(_full_date, text)
    text = MONTH_DAY.sub(_month_day, text)
    text = WEEKDAY_PAREN.sub(lambda m: f"{m.group(1)} {WEEKDAYS[m.group(2)]}", text)
    text = TIME.sub(_time, text)
    return TIME_RANGE.sub(lambda m: f"{m.group(1)}から{m.group(2)}まで", text)


def normalize_numbers(text: str) -> str:
    text = THOUSANDS.sub("", text)
    text = DIGIT_GROUPS.sub(lambda m: read_digit_groups(m.group(0)), text)
    return LONG_NUMBER.sub(lambda m: _long_number(m, text), text)


def normalize_symbols(text: str) -> str:
    for symbol, reading in SYMBOL_READINGS.items():
        text = text.replace(symbol, reading)
    return text


def normalize_for_speech(text: str) -> str:
    """What Open JTalk is given: widths unified, dates/times natural, codes digit by digit, # and * named."""
    text = normalize_width(text)
    text = normalize_dates_and_times(text)
    text = normalize_numbers(text)
    return normalize_symbols(text)
