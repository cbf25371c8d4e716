"""core.inputs, pure: what each parser takes, what it refuses, and the Japanese sentence naming the field."""
import datetime as dt

import pytest

from core.inputs import (
    INT_MAX,
    InputError,
    int_or,
    json_int,
    parse_date,
    parse_datetime,
    parse_int,
    parse_json,
    parse_month,
    parse_year,
)


def refusal(call) -> str:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value.message


@pytest.mark.parametrize("raw, expected", [("42", 42), (" 7 ", 7), ("0", 0), ("", None), (None, None),
                                           (str(INT_MAX), INT_MAX), ("007", 7)])
def test_integers_in_ascii_digits(raw, expected):
    assert parse_int(raw, "件数") == expected


@pytest.mark.parametrize("raw, words", [
    ("²", "件数は半角数字（整数）で入力してください（入力: ²）。"),
    ("٣", "件数は半角数字（整数）で入力してください（入力: ٣）。"),
    ("３", "件数は半角数字（整数）で入力してください（入力: ３）。"),
    ("1.5", "件数は半角数字（整数）で入力してください"),
    ("1e3", "件数は半角数字（整数）で入力してください"),
    ("-1", "件数は 0〜2,147,483,647 の範囲で入力してください（入力: -1）。"),
    (str(INT_MAX + 1), "件数は 0〜2,147,483,647 の範囲で入力してください"),
    ("9" * 5000, "件数は 0〜2,147,483,647 の範囲で入力してください（入力: 999999999999999999999999999999…）。"),
])
def test_integers_refused_with_the_field_named(raw, words):
    assert refusal(lambda: parse_int(raw, "件数")).startswith(words)


def test_integer_bounds_defaults_and_required():
    assert parse_int("-5", "枚数", minimum=-10, maximum=10) == -5
    assert parse_int("", "枚数", default=3) == 3
    assert refusal(lambda: parse_int(" ", "枚数", required=True)) == "枚数を入力してください。"
    assert refusal(lambda: parse_int("10000", "蓄積BOX番号", minimum=1, maximum=9999)) == (
        "蓄積BOX番号は 1〜9999 の範囲で入力してください（入力: 10000）。")
    assert refusal(lambda: parse_int("x", "limit")).startswith("limit は")  # an ASCII name gets a space


@pytest.mark.parametrize("raw, expected", [("3", 3), ("²", 1), ("", 1), (None, 1), ("-4", 1), ("9" * 30, INT_MAX),
                                           ("0", 1), ("٣", 1)])
def test_lenient_integers_for_page_numbers(raw, expected):
    assert int_or(raw, 1, minimum=1) == expected


def test_json_integers():
    assert json_int(5, "box", minimum=1, maximum=9) == 5
    for value in (True, 1.0, "5", None, [5]):
        assert refusal(lambda v=value: json_int(v, "box")) == "box は整数で指定してください。"
    assert "box は 1〜9 の整数で指定してください" in refusal(lambda: json_int(10**23, "box", minimum=1, maximum=9))


@pytest.mark.parametrize("raw, expected", [("2026-01-05", dt.date(2026, 1, 5)), ("2026/1/5", dt.date(2026, 1, 5)),
                                           (" 1900-01-01 ", dt.date(1900, 1, 1)), ("2100-12-31", dt.date(2100, 12, 31)),
                                           ("", None)])
def test_dates(raw, expected):
    assert parse_date(raw, "開始日") == expected


@pytest.mark.parametrize("raw, words", [
    ("9999-12-31", "開始日は 1900〜2100 年の日付で入力してください（入力: 9999-12-31）。"),
    ("1899-12-31", "開始日は 1900〜2100 年の日付で入力してください"),
    ("0000-01-01", "開始日に存在しない日付が指定されています（入力: 0000-01-01）。"),
    ("2026-02-30", "開始日に存在しない日付が指定されています"),
    ("10000-01-01", "開始日は YYYY-MM-DD の形式で入力してください（入力: 10000-01-01）。"),
    ("２０２６-01-05", "開始日は YYYY-MM-DD の形式で入力してください"),
    ("2026-01-05T10:00", "開始日は YYYY-MM-DD の形式で入力してください"),
])
def test_dates_refused(raw, words):
    assert refusal(lambda: parse_date(raw, "開始日")).startswith(words)


def test_datetimes_months_and_years():
    assert parse_datetime("2026-01-05T10:30", "配信日時") == dt.datetime(2026, 1, 5, 10, 30)
    assert parse_datetime("2026/01/05 10:30:15", "配信日時") == dt.datetime(2026, 1, 5, 10, 30, 15)
    assert "に存在しない日時" in refusal(lambda: parse_datetime("2026-01-05 24:00", "配信日時"))
    assert "1900〜2100 年の日時" in refusal(lambda: parse_datetime("9999-12-31T23:59", "配信日時"))
    assert parse_month("2026-02", "対象月") == dt.date(2026, 2, 1)
    assert "YYYY-MM の形式" in refusal(lambda: parse_month("2026-02-01", "対象月"))
    assert parse_year("2100", "年") == 2100
    assert refusal(lambda: parse_year("0", "年")) == "年は 1900〜2100 の範囲で入力してください（入力: 0）。"


def test_json_documents():
    assert parse_json(b'{"a": [1, 2.5, "x"]}') == {"a": [1, 2.5, "x"]}
    assert parse_json("[1]", expect=list) == [1]
    assert parse_json("1", expect=None) == 1
    assert parse_json('{"n": 99999999999999999999999}')["n"] == 99999999999999999999999  # json_int bounds it later


@pytest.mark.parametrize("text, words", [
    ("[" * 100_000 + "]" * 100_000, "JSON の入れ子が深すぎます（20 段まで）。"),
    ("[" * 21 + "]" * 21, "JSON の入れ子が深すぎます（20 段まで）。"),
    ('{"a":' * 21 + "1" + "}" * 21, "JSON の入れ子が深すぎます"),
    ("[]", "リクエスト本文は JSON オブジェクト（{…}）で送信してください。"),
    ('"x"', "リクエスト本文は JSON オブジェクト（{…}）で送信してください。"),
    ('{"a": NaN}', "JSON に使用できない数値（NaN）が含まれています。"),
    ('{"a": -Infinity}', "JSON に使用できない数値（-Infinity）"),
    ('{"a": 1e999}', "JSON に使用できない数値（1e999）"),
    ('{"a": "\\ud800"}', "対になっていないサロゲート"),
    ('{"\\udfff": 1}', "対になっていないサロゲート"),
    ('{"a": ["ok", "\\udc00x"]}', "対になっていないサロゲート"),
    ("{", "リクエスト本文を JSON として読み取れません。"),
    (b"\xff\xfe\x00", "リクエスト本文を JSON として読み取れません。"),
    ("9" * 5000, "リクエスト本文を JSON として読み取れません。"),
])
def test_json_refused(text, words):
    assert words in refusal(lambda: parse_json(text))


def test_paired_surrogates_are_ordinary_characters():
    assert parse_json('{"a": "\\ud83d\\ude00"}') == {"a": "😀"}
    nested = parse_json("[" * 20 + "]" * 20, expect=list)  # 20 levels: the limit itself is allowed
    for _ in range(19):
        nested = nested[0]
    assert nested == []
