"""R-53 CSV for Excel on a Japanese PC, pure: rows in, encoded chunks out (streamed, flat memory).

UTF-8 with a BOM by default (Excel then detects UTF-8); Shift_JIS (cp932) on request, where
characters cp932 cannot hold become "?" rather than an error.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

UTF8_BOM = b"\xef\xbb\xbf"
LINE_END = "\r\n"


@dataclass(frozen=True)
class CsvEncoding:
    key: str
    label: str
    codec: str
    bom: bytes


ENCODINGS = {
    "utf8": CsvEncoding("utf8", "UTF-8 (BOM 付き・推奨)", "utf-8", UTF8_BOM),
    "sjis": CsvEncoding("sjis", "Shift_JIS (古い Excel 向け)", "cp932", b""),
}
DEFAULT_ENCODING = "utf8"

# Characters that JIS text commonly uses where cp932 has a look-alike at another code point;
# mapping them keeps the text readable instead of turning it into "?".
CP932_LOOKALIKES = str.maketrans({
    "\u301c": "\uff5e",  # WAVE DASH -> FULLWIDTH TILDE
    "\u2212": "\uff0d",  # MINUS SIGN -> FULLWIDTH HYPHEN-MINUS
    "\u2016": "\u2225",  # DOUBLE VERTICAL LINE -> PARALLEL TO
    "\u00a2": "\uffe0",  # CENT SIGN
    "\u00a3": "\uffe1",  # POUND SIGN
    "\u00ac": "\uffe2",  # NOT SIGN
    "\u2014": "\u2015",  # EM DASH -> HORIZONTAL BAR
    "\u00a0": " ",       # NO-BREAK SPACE
})

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def encoding_for(key: str | None) -> CsvEncoding:
    """The encoding asked for; anything unknown falls back to UTF-8 with a BOM."""
    return ENCODINGS.get((key or "").lower(), ENCODINGS[DEFAULT_ENCODING])


def encode_text(text: str, encoding: CsvEncoding) -> bytes:
    if encoding.codec == "cp932":
        return text.translate(CP932_LOOKALIKES).encode("cp932", errors="replace")
    return text.encode(encoding.codec)


def format_datetime(value: dt.datetime | str | None) -> str:
    """A stored timestamp as Excel reads it (seconds, no microseconds)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:19]
    return value.strftime("%Y-%m-%d %H:%M:%S")


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence], encoding: CsvEncoding | str = DEFAULT_ENCODING,
               rows_per_chunk: int = 2000) -> Iterator[bytes]:
    """The CSV document in encoded chunks: BOM and header first, then `rows_per_chunk` rows at a time."""
    if isinstance(encoding, str):
        encoding = encoding_for(encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    writer.writerow(header)
    yield encoding.bom + encode_text(_drain(buffer), encoding)
    iterator = iter(rows)
    while True:
        batch = list(itertools.islice(iterator, rows_per_chunk))
        if not batch:
            return
        writer.writerows(batch)
        yield encode_text(_drain(buffer), encoding)


class LineWriter:
    """csv.writer's text for one row at a time, without its line end (stored per call at publication)."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=LINE_END)

    def line(self, row: Sequence) -> str:
        self._writer.writerow(row)
        return _drain(self._buffer)[:-len(LINE_END)]


def line_chunks(header: Sequence[str], batches: Iterable[list[str]],
                encoding: CsvEncoding | str = DEFAULT_ENCODING) -> Iterator[bytes]:
    """csv_chunks for rows already written as CSV lines (LineWriter), a batch of lines a chunk."""
    if isinstance(encoding, str):
        encoding = encoding_for(encoding)
    yield encoding.bom + encode_text(LineWriter().line(header) + LINE_END, encoding)
    for lines in batches:
        if lines:
            yield encode_text(LINE_END.join(lines) + LINE_END, encoding)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def download_name(kind: str, start: dt.date, end: dt.date) -> str:
    """File name with the date range, e.g. 着信・SMS送信レポート_20260101-20260131.csv."""
    return f"{kind}_{start:%Y%m%d}-{end:%Y%m%d}.csv"


def content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the real (Japanese) name as RFC 5987 filename*."""
    fallback = filename.encode("ascii", errors="ignore").decode().strip("_") or "report.csv"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
