"""Date ranges asked for by people and API clients (pure): parsed, checked, explained in Japanese."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from core.inputs import InputError, parse_date


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class RangeLimits:
    """What may be asked: nothing before the oldest kept day, nothing after today."""

    oldest: dt.date
    today: dt.date
    default_end: dt.date
    default_days: int = 31

    def default_range(self) -> DateRange:
        end = max(min(self.default_end, self.today), self.oldest)
        start = max(self.oldest, end - dt.timedelta(days=self.default_days - 1))
        return DateRange(start, end)


def parse_range(raw_from: str | None, raw_to: str | None, limits: RangeLimits,
                labels: tuple[str, str] = ("開始日", "終了日")) -> tuple[DateRange, list[str]]:
    """The range asked for, or the default range with the reasons (Japanese) when the input cannot be used."""
    default = limits.default_range()
    errors: list[str] = []
    parsed = []
    for raw, label in zip((raw_from, raw_to), labels):
        try:
            parsed.append(parse_date(raw, label))
        except InputError as error:
            errors.append(error.message)
            parsed.append(None)
    if errors:
        return default, errors
    start, end = _fill_blanks(parsed[0], parsed[1], limits, default)
    if start > end:
        errors.append(f"「{labels[0]}」は「{labels[1]}」以前の日付にしてください ({start} > {end})")
    for day, label in ((start, labels[0]), (end, labels[1])):
        if day < limits.oldest:
            errors.append(f"「{label}」は保存期間内 ({limits.oldest} 以降) の日付にしてください。"
                          "保存期間を過ぎたデータは削除済みで、復元はできません")
    if end > limits.today:
        errors.append(f"「{labels[1]}」に未来の日付 ({end}) は指定できません (本日は {limits.today})")
    if errors:
        return default, errors
    return DateRange(start, end), []


def _fill_blanks(start: dt.date | None, end: dt.date | None, limits: RangeLimits,
                 default: DateRange) -> tuple[dt.date, dt.date]:
    """A blank end is the default end (or today, when the start is later); a blank start a default span back."""
    if end is None:
        end = default.end if start is None or start <= default.end else limits.today
    if start is None:
        start = max(limits.oldest, end - dt.timedelta(days=limits.default_days - 1))
    return start, end


