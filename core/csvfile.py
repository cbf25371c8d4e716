"""The one CSV writer of every download (R-53, R-65): cells Excel cannot run or reshape, the same encodings
everywhere, streamed in chunks (flat memory), one Content-Type and Content-Disposition.

Cells. Excel runs a cell that starts with = + - @ (and, after tab/CR trimming in some importers, a tab or CR)
as a formula; Japanese Excel does the same with the full-width ＝ ＋ － ＠ (and the small-form ﹦ ﹢ ﹣ ﹫ fold
into them), so those are guarded too, and so is the minus sign − that the Shift_JIS download writes as －. Excel also turns text that looks like a number into one: 09012345678
loses its leading zero and +819012345678 or 819012345678 becomes 8.19012E+11. Every such text cell gets a
leading apostrophe. The ="…" form would keep numbers as text, but it is itself a formula (anything pasted into
it runs), so a neutral prefix is used instead: the apostrophe is what Excel itself uses to mark typed text, it is
OWASP's advice for CSV injection, exists in both encodings, and shows the reader that the cell was guarded.
Numbers the program means as numbers (ints, floats: counts, seconds) stay numbers so they can be summed.
Guarding is idempotent (a guarded cell starts with the apostrophe), so stored lines may pass through again.

Encodings. UTF-8 with a BOM by default (Excel then detects UTF-8); Shift_JIS (cp932) on request, where
characters cp932 lacks become 〓 (the geta mark Japanese systems print for them) instead of an error.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import numbers
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, stream_with_context

UTF8_BOM = b"\xef\xbb\xbf"
LINE_END = "\r\n"
NEUTRAL_PREFIX = "'"
FORMULA_STARTS = frozenset("=+-@\t\r" "＝＋－＠" "﹦﹢﹣﹫" "\u2212")  # U+2212 MINUS: Shift_JIS writes it as －
# Excel's General format shows at most 11 digits; a longer digit string becomes 1.23E+11 (and past 15, loses digits).
MAX_PLAIN_DIGITS = 11
REPLACEMENT = "〓"
ROWS_PER_CHUNK = 2000


@dataclass(frozen=True)
class CsvEncoding:
    key: str      # the ?encoding= value
    label: str    # what the download form shows
    codec: str
    bom: bytes
    charset: str  # the HTTP charset name


ENCODINGS = {
    "utf8": CsvEncoding("utf8", "UTF-8 (BOM 付き・推奨)", "utf-8", UTF8_BOM, "utf-8"),
    "sjis": CsvEncoding("sjis", "Shift_JIS (古い Excel 向け)", "cp932", b"", "Shift_JIS"),
}
DEFAULT_ENCODING = "utf8"

# Characters that JIS text commonly uses where cp932 has a look-alike at another code point;
# mapping them keeps the text readable instead of turning it into 〓.
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


def _visible_replacement(error: UnicodeEncodeError) -> tuple[bytes, int]:
    # Bytes: the UTF-8 encoder takes only ASCII text from a handler.
    return REPLACEMENT.encode(error.encoding) * (error.end - error.start), error.end


codecs.register_error("csvfile.visible", _visible_replacement)


def encoding_for(key: str | CsvEncoding | None) -> CsvEncoding:
    """The encoding asked for (?encoding=utf8|sjis); anything unknown is UTF-8 with a BOM."""
    if isinstance(key, CsvEncoding):
        return key
    return ENCODINGS.get((key or "").lower(), ENCODINGS[DEFAULT_ENCODING])


def encode_text(text: str, encoding: CsvEncoding) -> bytes:
    """Text in the download's encoding; what it cannot hold becomes 〓 (lone surrogates too, in UTF-8)."""
    if encoding.codec == "cp932":
        text = text.translate(CP932_LOOKALIKES)
    return text.encode(encoding.codec, errors="csvfile.visible")


# --- cells ---------------------------------------------------------------------------------------------------------
def neutral_text(text: str) -> str:
    """`text` as a cell Excel keeps as typed: a leading apostrophe when it would be a formula or a number."""
    if text and (text[0] in FORMULA_STARTS or _becomes_a_number(text)):
        return NEUTRAL_PREFIX + text
    return text


def _becomes_a_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and ((text[0] == "0" and len(text) > 1) or len(text) > MAX_PLAIN_DIGITS)


def format_datetime(value: dt.datetime | str | None) -> str:
    """A stored timestamp as Excel reads it (seconds, no microseconds)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:19]
    return value.strftime("%Y-%m-%d %H:%M:%S")


def cell(value):
    """One value as written: text guarded, numbers kept, timestamps to the second, None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return neutral_text(value)
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, numbers.Number):  # int, float, a database sum's Decimal
        return value
    return neutral_text(str(value))


def cells(row: Iterable) -> list:
    return [value if type(value) is int else cell(value) for value in row]


# --- writing ---------------------------------------------------------------------------------------------------------
class LineWriter:
    """One row at a time as its CSV text without the line end (the reports store a line per call)."""

    def __init__(self):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator=LINE_END)

    def line(self, row: Iterable) -> str:
        self._writer.writerow(cells(row))
        return _drain(self._buffer)[:-len(LINE_END)]

    def lines(self, rows: Iterable[Iterable]) -> str:
        """Several rows, each with its line end."""
        self._writer.writerows(map(cells, rows))
        return _drain(self._buffer)


def csv_chunks(header: Sequence[str], rows: Iterable[Iterable], encoding: CsvEncoding | str | None = None,
               rows_per_chunk: int = ROWS_PER_CHUNK) -> Iterator[bytes]:
    """The CSV document in encoded chunks: BOM and header first, then `rows_per_chunk` rows at a time."""
    encoding = encoding_for(encoding)
    writer = LineWriter()
    yield encoding.bom + encode_text(writer.lines([header]), encoding)
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, rows_per_chunk)):
        yield encode_text(writer.lines(batch), encoding)


def line_chunks(header: Sequence[str], batches: Iterable[list[str]],
                encoding: CsvEncoding | str | None = None) -> Iterator[bytes]:
    """csv_chunks for rows already written by LineWriter (stored lines), a batch of lines a chunk."""
    encoding = encoding_for(encoding)
    yield encoding.bom + encode_text(LineWriter().lines([header]), encoding)
    for lines in batches:
        if lines:
            yield encode_text(LINE_END.join(lines) + LINE_END, encoding)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# --- HTTP ----------------------------------------------------------------------------------------------------------
def content_disposition(filename: str) -> str:
    """attachment with an ASCII fallback and the real (Japanese) name as RFC 5987 filename*."""
    ascii_name = "".join(ch for ch in filename if " " <= ch <= "~" and ch not in '"\\;')
    fallback = ascii_name.strip("_ ") or "download.csv"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_response(filename: str, chunks: Iterable[bytes], encoding: CsvEncoding | str | None = None) -> Response:
    """A streamed download of encoded CSV chunks (made by csv_chunks or line_chunks in the same encoding)."""
    encoding = encoding_for(encoding)
    response = Response(stream_with_context(chunks), content_type=f"text/csv; charset={encoding.charset}")
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Iterable],
                 encoding: CsvEncoding | str | None = None) -> Response:
    """The usual download: a header and rows, written and streamed in the encoding asked for."""
    encoding = encoding_for(encoding)
    return csv_response(filename, csv_chunks(header, rows, encoding), encoding)
