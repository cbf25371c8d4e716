"""Recipient lists for bulk sends (R-40, R-41): CSV files, pasted numbers, de-duplication. Pure: no Flask, no database.

The number rules themselves (R-21) are not here: `collect` is given the SMS package's `check_mobile`, so there is one
copy of them in the platform.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from core.inputs import int_or

# Excel on a Japanese PC saves "CSV (コンマ区切り)" as cp932; newer versions offer "CSV UTF-8" (with a BOM).
UTF8_BOM = b"\xef\xbb\xbf"
ENCODING_LABELS = {"utf-8-sig": "UTF-8 (BOM 付き)", "utf-8": "UTF-8", "cp932": "Shift_JIS（Excel 向け）"}

# Header cells that name the phone column, compared after NFKC, lower-casing and removing spaces.
PHONE_HEADERS = ("電話番号", "携帯電話番号", "携帯番号", "携帯電話", "携帯", "電話", "tel", "phone", "mobile",
                 "phonenumber", "mobilephone", "番号", "to", "宛先")
PHONE_HEADER_WORDS = ("電話", "携帯", "tel", "phone", "mobile")
# A quoted field may span lines; a quote still open after this many lines is a broken row, not the rest of the file.
MAX_LINES_PER_ROW = 10
# Characters that make a line more than "fields split by the delimiter" for the csv module.
UNPLAIN = ('"', "\r", "\0")
PASTE_SEPARATORS = re.compile(r"[,、，;；\t]+")

SKIP_EMPTY = "電話番号が空です"
# 差し込み: a column title usable as {title} (no braces or spaces inside), how many, and how long a value is kept.
FIELD_TITLE = re.compile(r"[^{}\s]{1,30}")
MAX_MERGE_FIELDS = 20
MAX_FIELD_LENGTH = 200
SKIP_OPTED_OUT = "配信停止済みの番号です"


@dataclass(frozen=True)
class Candidate:
    """One number as the user gave it, with where it came from (CSV or paste line), for messages."""

    raw: str
    line: int | None = None
    fields: tuple[str, ...] | None = None  # the row's values of the CSV's merge fields (差し込み)


@dataclass(frozen=True)
class Skipped:
    raw: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class BrokenRow:
    line: int
    reason: str
    text: str = ""


class Recipient(NamedTuple):
    """A number to send to (a NamedTuple: a 100,000-row list makes one each, and these are cheap to make)."""

    e164: str
    raw: str
    line: int | None = None
    fields: tuple[str, ...] | None = None


@dataclass
class CsvTable:
    encoding: str
    header: list[str] | None
    column: int  # 0-based index of the phone column
    candidates: list[Candidate] = field(default_factory=list)
    broken: list[BrokenRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The column titles other than the phone column: usable as {title} in the messages (差し込み)."""
        return tuple(merge_field_names(self.header, self.column))

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def column_label(self) -> str:
        if self.header and self.column < len(self.header):
            return f"{self.column + 1} 列目「{self.header[self.column]}」"
        return f"{self.column + 1} 列目"


@dataclass
class RecipientList:
    recipients: list[Recipient] = field(default_factory=list)
    duplicates: list[Candidate] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    opted_out: list[Skipped] = field(default_factory=list)

    @property
    def numbers(self) -> list[str]:
        return [r.e164 for r in self.recipients]


class CsvError(ValueError):
    """The file cannot be used as a whole (empty, no phone column); `columns` lets the user choose one."""

    def __init__(self, message: str, columns: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.columns = columns or []


# --- decoding --------------------------------------------------------------------------------------------------
def decode_lines(data: bytes) -> tuple[str, list[tuple[int, str | None]]]:
    """Split bytes into numbered text lines; a line no encoding reads is None (reported, the rest kept).

    Splitting on b"\\n" first is safe for UTF-8 and cp932 alike: 0x0A is never part of a multi-byte character.
    """
    if data.startswith(UTF8_BOM):
        encoding, data = "utf-8-sig", data[len(UTF8_BOM):]
    else:
        encoding = _whole_file_encoding(data) or _most_readable_encoding(data)
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    lines: list[tuple[int, str | None]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        try:
            lines.append((number, raw.decode(codec)))
        except UnicodeDecodeError:
            lines.append((number, None))
    if lines and lines[-1][1] == "":
        lines.pop()  # the newline at the end of the last row
    return encoding, lines


def _whole_file_encoding(data: bytes) -> str | None:
    for encoding in ("utf-8", "cp932"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "cp932" and _mostly_utf8(data):
            return None  # a UTF-8 file with a damaged line also "decodes" as cp932, as mojibake
        return encoding
    return None


def _mostly_utf8(data: bytes) -> bool:
    """Do most lines with non-ASCII bytes read as UTF-8? Random cp932 text almost never does."""
    non_ascii = [raw for raw in data.split(b"\n") if not raw.isascii()]
    readable = 0
    for raw in non_ascii:
        try:
            raw.decode("utf-8")
            readable += 1
        except UnicodeDecodeError:
            pass
    return bool(non_ascii) and readable * 2 >= len(non_ascii)


def _most_readable_encoding(data: bytes) -> str:
    """A file with some damaged lines: UTF-8 when most of its Japanese lines read as UTF-8, else cp932."""
    return "utf-8" if _mostly_utf8(data) else "cp932"


# --- rows ------------------------------------------------------------------------------------------------------
def split_rows(lines: list[tuple[int, str | None]], delimiter: str) -> tuple[list[tuple[int, list[str]]], list[BrokenRow]]:
    """CSV rows with the line each starts on; a malformed row is reported and reading goes on at the next line."""
    rows: list[tuple[int, list[str]]] = []
    broken: list[BrokenRow] = []
    index = 0
    while index < len(lines):
        number, text = lines[index]
        if text is None:
            broken.append(BrokenRow(number, "文字コードを読み取れない文字があります"))
            index += 1
            continue
        if not text.strip():
            index += 1
            continue
        if not any(ch in text for ch in UNPLAIN):
            # Most rows have no quotes: splitting is what the csv module would do, without a reader per row.
            rows.append((number, text.split(delimiter)))
            index += 1
            continue
        group = [text]
        while sum(part.count('"') for part in group) % 2 and len(group) < MAX_LINES_PER_ROW \
                and index + len(group) < len(lines) and lines[index + len(group)][1] is not None:
            group.append(lines[index + len(group)][1])
        try:
            parsed = list(csv.reader([part + "\n" for part in group], delimiter=delimiter, strict=True))
        except csv.Error:
            parsed = []
        if len(parsed) != 1:
            broken.append(BrokenRow(number, "引用符 (\") が閉じられていません", text[:100]))
            index += 1
            continue
        rows.append((number, parsed[0]))
        index += len(group)
    return rows, broken


def guess_delimiter(lines: list[tuple[int, str | None]]) -> str:
    first = next((text for _, text in lines if text and text.strip()), "")
    return "\t" if "\t" in first and "," not in first else ","


def normalise_header(cell: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", cell)).lower()


def looks_like_number(cell: str) -> bool:
    """A cell of a data row (at least 10 digits once hyphens and spaces are gone), not a column title."""
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", cell))
    return len(digits) >= 10


def find_phone_column(header: list[str]) -> int | None:
    names = [normalise_header(cell) for cell in header]
    for wanted in PHONE_HEADERS:
        if wanted in names:
            return names.index(wanted)
    for index, name in enumerate(names):
        if any(word in name for word in PHONE_HEADER_WORDS):
            return index
    return None


def choose_column(header: list[str] | None, first_row: list[str], column: str | int | None) -> int:
    """The phone column: the one the user chose (title or 1-based number), else found by title or content."""
    width = len(header or first_row)
    columns = header or [f"{i + 1} 列目" for i in range(width)]
    if column not in (None, ""):
        text = str(column).strip()
        if header and text in header:
            return header.index(text)
        number = int_or(text, 0, maximum=width + 1)  # a column number, 1-based
        if 1 <= number <= width:
            return number - 1
        raise CsvError(f"指定された列「{text}」が CSV にありません。列を選び直してください。", columns)
    found = find_phone_column(header) if header else None
    if found is None and not header:
        found = next((i for i, cell in enumerate(first_row) if looks_like_number(cell)), None)
    if found is None:
        raise CsvError("電話番号の列が見つかりません。電話番号の列を選んでください。", columns)
    return found


def read_csv(data: bytes, column: str | int | None = None) -> CsvTable:
    """The phone numbers of a CSV file (UTF-8 with or without BOM, or Shift_JIS/cp932), with the rows it could not use."""
    if not data.strip():
        raise CsvError("CSV ファイルが空です。")
    encoding, lines = decode_lines(data)
    rows, broken = split_rows(lines, guess_delimiter(lines))
    if not rows:
        raise CsvError("CSV ファイルに読み取れる行がありません。")
    _, first_row = rows[0]
    has_header = not any(looks_like_number(cell) for cell in first_row)
    header = [cell.strip() for cell in first_row] if has_header else None
    data_rows = rows[1:] if has_header else rows
    index = choose_column(header, data_rows[0][1] if data_rows else first_row, column)
    table = CsvTable(encoding=encoding, header=header, column=index, broken=broken)
    merge_columns = [i for i, _ in merge_columns_of(header, index)]
    for number, row in data_rows:
        if index >= len(row):
            table.broken.append(BrokenRow(number, f"列が足りません ({len(row)} 列しかありません)", ",".join(row)[:100]))
        elif not row[index].strip():
            table.skipped.append(Skipped("", number, SKIP_EMPTY))
        else:
            fields = tuple(row[i].strip()[:MAX_FIELD_LENGTH] if i < len(row) else "" for i in merge_columns)
            table.candidates.append(Candidate(row[index].strip(), number, fields if merge_columns else None))
    table.broken.sort(key=lambda b: b.line)
    return table


def merge_columns_of(header: list[str] | None, phone_column: int) -> list[tuple[int, str]]:
    """(index, title) of the columns a message may use as {title}: titled, not the phone column, each title once."""
    if not header:
        return []
    seen: set[str] = set()
    out = []
    for i, title in enumerate(header):
        if i == phone_column or not FIELD_TITLE.fullmatch(title) or title in seen:
            continue
        seen.add(title)
        out.append((i, title))
    return out[:MAX_MERGE_FIELDS]


def merge_field_names(header: list[str] | None, phone_column: int) -> list[str]:
    return [title for _, title in merge_columns_of(header, phone_column)]


def parse_pasted(text: str) -> list[Candidate]:
    """Numbers pasted one a line (or separated by commas, tabs, 、); spaces separate numbers only between whole ones.

    "090 1234 5678" is one number written with spaces; "09012345678 08011112222" is two.
    """
    out = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        for chunk in PASTE_SEPARATORS.split(line):
            words = chunk.split()
            if len(words) > 1 and all(looks_like_number(word) for word in words):
                out.extend(Candidate(word, number) for word in words)
            elif words:
                out.append(Candidate(" ".join(words), number))
    return out


# --- de-duplication --------------------------------------------------------------------------------------------
def collect(candidates: Iterable[Candidate], check: Callable, opted_out: Container[str] = frozenset(),
            quick: Callable[[str], str | None] | None = None) -> RecipientList:
    """Unique mobile numbers in first-seen order; duplicates (also written differently), non-mobile and opted-out listed.

    `check(raw)` is `sms.public.check_mobile`: an object with ok, e164 and reason. `quick(raw)`, when given, is
    its shortcut for plain well-formed numbers (core.phone.plain_mobile_e164): an E.164, or None to ask `check`.
    """
    result = RecipientList()
    seen: set[str] = set()
    checked: dict[str, tuple[bool, str | None, str | None]] = {}
    for candidate in candidates:
        e164 = quick(candidate.raw) if quick is not None else None
        if e164 is not None:
            ok, reason = True, None
        else:
            verdict = checked.get(candidate.raw)
            if verdict is None:
                outcome = check(candidate.raw)
                verdict = checked[candidate.raw] = (outcome.ok, outcome.e164, outcome.reason)
            ok, e164, reason = verdict
        if not ok:
            result.skipped.append(Skipped(candidate.raw, candidate.line, reason or "携帯電話番号ではありません"))
        elif e164 in seen:
            result.duplicates.append(candidate)
        else:
            seen.add(e164)
            if e164 in opted_out:
                result.opted_out.append(Skipped(candidate.raw, candidate.line, SKIP_OPTED_OUT))
            else:
                result.recipients.append(Recipient(e164, candidate.raw, candidate.line, candidate.fields))
    return result
