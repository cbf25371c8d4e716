"""The report as the page, the CSV and the API show it, built (pure) from daily aggregates."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from ivr.public import PART_LABELS

COUNTERS = ("calls", "completed", "abandoned", "retry_limit", "transferred", "voicemail", "errors", "duration_seconds",
            "sms_sent", "sms_delivered", "sms_failed", "sms_other", "sms_clicked")
# Stored with the counters, not shown as one: the calls recorded before migration 0013.
STORED_COUNTERS = (*COUNTERS, "legacy_calls")
COUNTER_LABELS = {
    "calls": "着信数", "completed": "完了", "abandoned": "途中放棄", "retry_limit": "リトライ上限", "transferred": "転送",
    "voicemail": "留守電",
    "errors": "エラー", "duration_seconds": "通話秒数", "sms_sent": "SMS送信", "sms_delivered": "SMS送達",
    "sms_failed": "SMS配信失敗", "sms_other": "SMS配信中・状態不明", "sms_clicked": "SMS URLクリック",
}
# Call outcomes (ivr) and SMS states (sms) -> the counter they add to; other SMS states are "other".
OUTCOME_COUNTERS = {"completed": "completed", "abandoned": "abandoned", "retry_limit": "retry_limit",
                    "transferred": "transferred", "voicemail": "voicemail", "error": "errors"}
# The counters a call's record decides (a published day keeps them); the rest are the day's SMS.
CALL_COUNTERS = ("calls", "completed", "abandoned", "retry_limit", "transferred", "voicemail", "errors",
                 "duration_seconds", "legacy_calls")
SMS_STATE_COUNTERS = {"delivered": "sms_delivered", "failed": "sms_failed"}
CHOICE_KINDS = ("digit", "speech", "mis_entry", "timeout")
CHOICE_LABELS = {"speech": "音声", "mis_entry": "入力ミス", "timeout": "入力タイムアウト"}
NO_CALL_LABEL = "通話以外 (API・一括配信など)"

StatKey = tuple[dt.date, str]  # (day, dialled number)


@dataclass
class Aggregates:
    """Counts per day and dialled number, as published or as computed live."""

    stats: dict[StatKey, Counter] = field(default_factory=lambda: defaultdict(Counter))
    abandons: Counter = field(default_factory=Counter)   # (day, dialled, node_key, node_name)
    choices: Counter = field(default_factory=Counter)    # (day, dialled, node_key, node_name, kind, digits)
    # (day, dialled, node_key, node_name, part, guidance_name): where abandoning callers hung up
    abandon_places: Counter = field(default_factory=Counter)
    hours: Counter = field(default_factory=Counter)      # (day, dialled, hour, "calls" or "abandoned")

    def tables(self) -> tuple[Counter, ...]:
        return self.abandons, self.choices, self.abandon_places, self.hours

    def only(self, dialled: str | None) -> Aggregates:
        """The same counts restricted to one dialled number (None: all)."""
        if dialled is None:
            return self
        kept = Aggregates()
        kept.stats.update({k: v for k, v in self.stats.items() if k[1] == dialled})
        for mine, theirs in zip(kept.tables(), self.tables()):
            mine.update({k: v for k, v in theirs.items() if k[1] == dialled})
        return kept

    def between(self, start: dt.date, end: dt.date) -> Aggregates:
        """The same counts for the days start..end only."""
        kept = Aggregates()
        kept.stats.update({k: v for k, v in self.stats.items() if start <= k[0] <= end})
        for mine, theirs in zip(kept.tables(), self.tables()):
            mine.update({k: v for k, v in theirs.items() if start <= k[0] <= end})
        return kept

    def drop_days(self, days) -> None:
        for table in (self.stats, *self.tables()):
            for key in [key for key in table if key[0] in days]:
                del table[key]

    def add(self, other: Aggregates) -> None:
        for key, counts in other.stats.items():
            self.stats[key].update(counts)
        for mine, theirs in zip(self.tables(), other.tables()):
            mine.update(theirs)

    def take_sms_of(self, other: Aggregates, day: dt.date) -> None:
        """The day's SMS counters from `other` (counted again), its call figures kept as they are (published)."""
        keys = {key for key in (*self.stats, *other.stats) if key[0] == day}
        for key in keys:
            counts = self.stats[key]
            for name in STORED_COUNTERS:
                if name not in CALL_COUNTERS:
                    counts[name] = other.stats[key][name] if key in other.stats else 0


@dataclass
class Row:
    """A line of counts (a day, a number, a day and number, or the total)."""

    day: dt.date | None = None
    dialled: str | None = None
    counts: Counter = field(default_factory=Counter)

    def __getattr__(self, name):
        if name in COUNTERS:
            return self.counts[name]
        raise AttributeError(name)

    @property
    def abandon_rate(self) -> float:
        return self.counts["abandoned"] / self.counts["calls"] if self.counts["calls"] else 0.0

    def as_dict(self) -> dict:
        out = {name: self.counts[name] for name in COUNTERS}
        if self.day is not None:
            out = {"date": self.day.isoformat(), **out}
        if self.dialled is not None:
            out = {"dialled_number": self.dialled, **out}
        return out


@dataclass
class MenuChoices:
    node_key: str
    node_name: str
    items: list[tuple[str, int]]  # (label, count): digits first in order, then wrong entries and time-outs

    @property
    def total(self) -> int:
        return sum(count for _, count in self.items)


@dataclass
class Report:
    start: dt.date
    end: dt.date
    days: list[Row]
    rows: list[Row]             # per day and dialled number (days with nothing are left out)
    by_number: list[Row]
    total: Row
    abandons: list[tuple[str, str, int]]  # (node_key, node_name, count), most first
    menus: list[MenuChoices]
    abandon_places: list[AbandonPlace] = field(default_factory=list)  # most first
    hours: list[tuple[int, int, int]] = field(default_factory=list)  # (hour 0–23, calls, abandoned)
    legacy_days: list[dt.date] = field(default_factory=list)  # days with calls recorded before migration 0013

    @property
    def legacy_span(self) -> tuple[dt.date, dt.date] | None:
        return (self.legacy_days[0], self.legacy_days[-1]) if self.legacy_days else None


@dataclass(frozen=True)
class AbandonPlace:
    node_key: str
    node_name: str
    part: str
    guidance_name: str
    count: int

    @property
    def part_label(self) -> str:
        return PART_LABELS.get(self.part, self.part)


def each_day(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def build_report(aggregates: Aggregates, start: dt.date, end: dt.date,
                 choice_names: dict[tuple[str, str], str] | None = None) -> Report:
    """Totals per day (every day of the range, zeros included), per number, per menu; `choice_names` says what a
    menu's digit does ((node key, digits) -> name) so the menu tables read 「1: SMS送信」."""
    per_day: dict[dt.date, Counter] = defaultdict(Counter)
    per_number: dict[str, Counter] = defaultdict(Counter)
    total = Counter()
    rows = []
    for (day, dialled), counts in sorted(aggregates.stats.items()):
        if not start <= day <= end:
            continue
        per_day[day].update(counts)
        per_number[dialled].update(counts)
        total.update(counts)
        rows.append(Row(day, dialled, Counter(counts)))
    return Report(
        start=start, end=end,
        days=[Row(day, None, per_day[day]) for day in each_day(start, end)],
        rows=rows,
        by_number=[Row(None, number, counts) for number, counts in sorted(per_number.items())],
        total=Row(None, None, total),
        abandons=_abandons_by_menu(aggregates, start, end),
        menus=_choices_by_menu(aggregates, start, end, choice_names or {}),
        hours=_calls_by_hour(aggregates, start, end),
        abandon_places=_abandon_places(aggregates, start, end),
        legacy_days=sorted({day for (day, _), counts in aggregates.stats.items()
                            if start <= day <= end and counts["legacy_calls"]}),
    )


def empty_report(start: dt.date) -> Report:
    """A report with no days (nothing published yet for the range)."""
    return build_report(Aggregates(), start, start - dt.timedelta(days=1))


def _abandons_by_menu(aggregates: Aggregates, start: dt.date, end: dt.date) -> list[tuple[str, str, int]]:
    counts: Counter = Counter()
    for (day, _dialled, node_key, node_name), count in aggregates.abandons.items():
        if start <= day <= end:
            counts[(node_key, node_name)] += count
    return sorted(((key, name, count) for (key, name), count in counts.items()), key=lambda x: (-x[2], x[0]))


def _abandon_places(aggregates: Aggregates, start: dt.date, end: dt.date) -> list[AbandonPlace]:
    counts: Counter = Counter()
    for (day, _dialled, *place), count in aggregates.abandon_places.items():
        if start <= day <= end:
            counts[tuple(place)] += count
    return sorted((AbandonPlace(*place, count) for place, count in counts.items()),
                  key=lambda p: (-p.count, p.node_key, p.part, p.guidance_name))


def _choices_by_menu(aggregates: Aggregates, start: dt.date, end: dt.date,
                     choice_names: dict[tuple[str, str], str]) -> list[MenuChoices]:
    per_menu: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for (day, _dialled, node_key, node_name, kind, digits), count in aggregates.choices.items():
        if start <= day <= end:
            per_menu[(node_key, node_name)][(CHOICE_KINDS.index(kind), digits)] += count
    menus = []
    for (node_key, node_name), counts in sorted(per_menu.items()):
        items = [(choice_label(CHOICE_KINDS[kind], digits, choice_names.get((node_key, digits))), count)
                 for (kind, digits), count in sorted(counts.items())]
        menus.append(MenuChoices(node_key, node_name, items))
    return menus


def _calls_by_hour(aggregates: Aggregates, start: dt.date, end: dt.date) -> list[tuple[int, int, int]]:
    counts: Counter = Counter()
    for (day, _dialled, hour, counter), count in aggregates.hours.items():
        if start <= day <= end:
            counts[(hour, counter)] += count
    return [(hour, counts[(hour, "calls")], counts[(hour, "abandoned")]) for hour in range(24)]


def choice_label(kind: str, digits: str, leads_to: str | None = None) -> str:
    if kind == "digit":
        if not digits:
            return "(空)"
        return f"{digits}: {leads_to}" if leads_to else digits
    return CHOICE_LABELS[kind] + (f" ({digits})" if digits else "")


def dialled_label(dialled: str) -> str:
    return dialled or NO_CALL_LABEL


def chart_series(report: Report) -> dict[str, dict]:
    """What the page's charts draw (reports/chart.js): per day, calls and abandoned calls, SMS sent and clicked."""
    days = [row.day.isoformat() for row in report.days]

    def daily(whole: str, part: str, rate: str) -> dict:
        return {"slot": "day", "slots": days, "rate": rate,
                "whole": _series(whole, [row.counts[whole] for row in report.days]),
                "part": _series(part, [row.counts[part] for row in report.days])}

    hourly = {"slot": "hour", "slots": [hour for hour, _, _ in report.hours], "rate": "途中放棄率",
              "whole": _series("calls", [calls for _, calls, _ in report.hours]),
              "part": _series("abandoned", [abandoned for _, _, abandoned in report.hours])}
    calls = daily("calls", "abandoned", "途中放棄率")
    calls["extra"] = _series("retry_limit", [row.counts["retry_limit"] for row in report.days])
    return {"calls": calls, "sms": daily("sms_sent", "sms_clicked", "クリック率"), "hours": hourly}


CHART_NAMES = {"calls": "着信", "abandoned": "途中放棄", "retry_limit": "リトライ上限", "sms_sent": "SMS送信",
               "sms_clicked": "URLクリック"}


def _series(key: str, values: list[int]) -> dict:
    return {"key": key.replace("_", "-"), "name": CHART_NAMES[key], "values": values}


OUTCOME_LABELS = {"completed": "完了", "abandoned": "途中放棄", "retry_limit": "リトライ上限", "transferred": "転送",
                  "voicemail": "留守電", "error": "エラー", None: "通話中"}
CALL_OUTCOMES = tuple(outcome for outcome in OUTCOME_LABELS if outcome)  # a finished call's outcomes, in order
EVENT_LABELS = {"timeout": "タイムアウト", "mis_entry": "入力ミス", "speech": "音声", "sms": "SMS送信", "transfer": "転送",
                "voicemail": "留守電", "hangup": "切断", "error": "エラー"}


def outcome_label(outcome: str | None) -> str:
    return OUTCOME_LABELS.get(outcome, outcome or "")


def path_steps(events: list[tuple]) -> list[str]:
    """A call's path as short Japanese steps: menus by name, digits pressed, what happened."""
    steps = []
    for kind, node_key, node_name, digits, _detail in events:
        if kind == "node":
            steps.append(node_name or node_key or "?")
        elif kind == "digit":
            steps.append(f"[{digits}]" if digits else "[空]")
        elif kind in ("mis_entry", "speech") and digits:
            steps.append(f"{EVENT_LABELS[kind]}[{digits}]")
        else:
            steps.append(EVENT_LABELS.get(kind, kind))
    return steps


PATH_SEPARATOR = " → "

