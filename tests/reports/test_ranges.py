"""Date ranges from forms and API queries (pure): defaults, Japanese errors naming the field."""
import datetime as dt

import pytest

from reports.ranges import DateRange, RangeLimits, parse_range

D = dt.date.fromisoformat
LIMITS = RangeLimits(oldest=D("2026-01-01"), today=D("2026-03-31"), default_end=D("2026-03-27"), default_days=31)


def test_blank_gives_the_default_range_ending_at_the_published_day():
    assert parse_range("", None, LIMITS) == (DateRange(D("2026-02-25"), D("2026-03-27")), [])


def test_a_range_inside_retention_is_taken_as_given():
    assert parse_range("2026-01-01", "2026/03/31", LIMITS) == (DateRange(D("2026-01-01"), D("2026-03-31")), [])


def test_one_blank_side_is_filled():
    assert parse_range("2026-03-30", "", LIMITS)[0] == DateRange(D("2026-03-30"), D("2026-03-31"))
    assert parse_range("", "2026-01-10", LIMITS)[0] == DateRange(D("2026-01-01"), D("2026-01-10"))


@pytest.mark.parametrize("raw_from, raw_to, message", [
    ("2026-13-01", "", "開始日に存在しない日付が指定されています（入力: 2026-13-01）"),
    ("", "あした", "終了日は YYYY-MM-DD の形式で入力してください（入力: あした）"),
    ("２０２６-01-01", "", "開始日は YYYY-MM-DD の形式で入力してください（入力: ２０２６-01-01）"),
    ("9999-12-31", "", "開始日は 1900〜2100 年の日付で入力してください（入力: 9999-12-31）"),
    ("2026-03-10", "2026-03-01", "「開始日」は「終了日」以前の日付にしてください"),
    ("2025-12-31", "2026-01-05", "「開始日」は保存期間内 (2026-01-01 以降) の日付にしてください"),
    ("2026-03-01", "2026-04-01", "「終了日」に未来の日付 (2026-04-01) は指定できません"),
])
def test_bad_input_is_explained_and_the_default_shown(raw_from, raw_to, message):
    shown, errors = parse_range(raw_from, raw_to, LIMITS)
    assert shown == LIMITS.default_range()
    assert any(error.startswith(message) for error in errors), errors


def test_labels_can_name_api_parameters():
    _, errors = parse_range("x", "", LIMITS, labels=("from", "to"))
    assert errors == ["from は YYYY-MM-DD の形式で入力してください（入力: x）。"]
