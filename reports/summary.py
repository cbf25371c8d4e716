"""The report as the page, the CSV and the API show it, built (pure) from daily aggregates."""
from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

COUNTERS = ("calls", "completed", "abandoned", "transferred", "voicemail", "errors", "duration_seconds",
            "sms_sent", "sms_delivered", "sms_failed", "sms_other", "sms_clicked")
COUNTER_LABELS = {
    "calls": "着信数", "completed": "完了", "abandoned": "途中放棄", "transferred": "転送", "voicemail": "留守電",
    "errors": "エラー", "duration_seconds": "通話秒数", "sms_sent": "SMS送信", "sms_delivered": "SMS送達",
    "sms_failed": "SMS配信失敗", "sms_other": "SMS配信中・状態不明", "sms_clicked": "SMS URLクリック",
}
# Call outcomes (ivr) and SMS states (sms) -> the counter they add to; other SMS states are "other".
OUTCOME_COUNTERS = {"completed": "completed", "abandoned": "abandoned", "transferred": "transferred",
                    "voicemail": "voicemail", "error": "errors"}
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

    def only(self, dialled: str | None) -> Aggregates:
        """The same counts restricted to one dialled number (None: all)."""
        if dialled is None:
            return self
        kept = Aggregates()
        kept.stats.update({k: v for k, v in self.stats.items() if k[1] == dialled})
        kept.abandons.update({k: v for k, v in self.abandons.items() if k[1] == dialled})
        kept.choices.update({k: v for k, v in self.choices.items() if k[1] == dialled})
        return kept

    def drop_days(self, days) -> None:
        for table in (self.stats, self.abandons, self.choices):
            for key in [key for key in table if key[0] in days]:
                del table[key]

    def add(self, other: Aggregates) -> None:
        for key, counts in other.stats.items():
            self.stats[key].update(counts)
        self.abandons.update(other.abandons)
        self.choices.update(other.choices)


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


def each_day(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def build_report(aggregates: Aggregates, start: dt.date, end: dt.date) -> Report:
    """Totals per day (every day of the range, zeros included), per number, per menu."""
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
        menus=_choices_by_menu(aggregates, start, end),
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


def _choices_by_menu(aggregates: Aggregates, start: dt.date, end: dt.date) -> list[MenuChoices]:
    per_menu: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for (day, _dialled, node_key, node_name, kind, digits), count in aggregates.choices.items():
        if start <= day <= end:
            per_menu[(node_key, node_name)][(CHOICE_KINDS.index(kind), digits)] += count
    menus = []
    for (node_key, node_name), counts in sorted(per_menu.items()):
        items = [(choice_label(CHOICE_KINDS[kind], digits), count) for (kind, digits), count in sorted(counts.items())]
        menus.append(MenuChoices(node_key, node_name, items))
    return menus


def choice_label(kind: str, digits: str) -> str:
    if kind == "digit":
        return digits or "(空)"
    return CHOICE_LABELS[kind] + (f" ({digits})" if digits else "")


def dialled_label(dialled: str) -> str:
    return dialled or NO_CALL_LABEL


def chart_series(report: Report) -> dict:
    """What the page's chart draws: daily calls and abandoned calls."""
    return {
        "days": [row.day.isoformat() for row in report.days],
        "calls": [row.counts["calls"] for row in report.days],
        "abandoned": [row.counts["abandoned"] for row in report.days],
        "sms": [row.counts["sms_sent"] for row in report.days],
    }


OUTCOME_LABELS = {"completed": "完了", "abandoned": "途中放棄", "transferred": "転送", "voicemail": "留守電",
                  "error": "エラー", None: "通話中"}
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

