"""The rows of the two CSV downloads: the daily report and the call detail (with each call's path)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from core import phone
from reports.call_rows import iter_csv_lines
from reports.queries import CallFilter
from reports.summary import COUNTER_LABELS, COUNTERS, Row, dialled_label

DAILY_HEADER = ["日付", "着信番号", *(COUNTER_LABELS[name] for name in COUNTERS)]
CALL_HEADER = ["開始日時", "終了日時", "発信者番号", "着信番号", "通話秒数", "結果", "最終メニュー", "途中放棄メニュー",
               "途中放棄時の再生内容", "途中放棄時のガイダンス", "経路", "通話ID"]


def daily_csv_rows(rows: Iterable[Row]) -> Iterator[list]:
    for row in rows:
        yield [row.day.isoformat(), dialled_label(phone.display(row.dialled)), *(row.counts[name] for name in COUNTERS)]


def call_csv_lines(criteria: CallFilter) -> Iterator[list[str]]:
    """The same rows as CSV lines, in chunks (what the download streams)."""
    return iter_csv_lines(criteria)


def download_name(kind: str, start: dt.date, end: dt.date) -> str:
    """File name with the date range, e.g. 着信・SMS送信レポート_20260101-20260131.csv."""
    return f"{kind}_{start:%Y%m%d}-{end:%Y%m%d}.csv"
