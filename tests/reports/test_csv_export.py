"""R-53 CSV, pure: read back with Python's csv module in both encodings; BOM; chunking; file names."""
import csv
import datetime as dt
import io
from urllib.parse import unquote

from reports.csv_export import (
    UTF8_BOM,
    content_disposition,
    csv_chunks,
    download_name,
    encoding_for,
    format_datetime,
)

HEADER = ["日時", "発信者番号", "メニュー", "件数"]
ROWS = [
    ["2026-01-05 10:00:00", "+819012345678", "受付メニュー", 3],
    ["2026-01-05 11:30:00", "+818012345678", "髙橋様向け案内, \"特別\"\n2行目", 0],
    ["2026-01-06 09:00:00", "", "ご案内〜お知らせ−①😀", None],
]


def read_back(data: bytes, codec: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(codec), newline="")))


def test_utf8_default_has_bom_and_reads_back_exactly():
    data = b"".join(csv_chunks(HEADER, ROWS))
    assert data.startswith(UTF8_BOM)
    assert data.count(UTF8_BOM) == 1
    rows = read_back(data, "utf-8-sig")
    assert rows[0] == HEADER
    assert rows[1] == ["2026-01-05 10:00:00", "+819012345678", "受付メニュー", "3"]
    assert rows[2][2] == "髙橋様向け案内, \"特別\"\n2行目"
    assert rows[3] == ["2026-01-06 09:00:00", "", "ご案内〜お知らせ−①😀", ""]
    assert data.endswith(b"\r\n")


def test_shift_jis_has_no_bom_and_replaces_what_cp932_lacks():
    data = b"".join(csv_chunks(HEADER, ROWS, "sjis"))
    assert not data.startswith(UTF8_BOM)
    rows = read_back(data, "cp932")
    assert rows[0] == HEADER
    assert rows[2][2] == "髙橋様向け案内, \"特別\"\n2行目"  # 髙 exists in cp932 (IBM extension)
    # WAVE DASH and MINUS map to cp932's look-alikes, ① is in cp932, the emoji becomes "?".
    assert rows[3][2] == "ご案内～お知らせ－①?"


def test_rows_come_in_chunks_not_all_at_once():
    produced = []

    def rows():
        for n in range(10):
            produced.append(n)
            yield [n, "x"]

    chunks = csv_chunks(["n", "x"], rows(), rows_per_chunk=3)
    first = next(chunks)
    assert first == UTF8_BOM + b"n,x\r\n" and produced == []
    assert next(chunks) == b"0,x\r\n1,x\r\n2,x\r\n" and produced == [0, 1, 2]
    rest = list(chunks)
    assert len(rest) == 3 and rest[-1] == b"9,x\r\n"


def test_unknown_encoding_falls_back_to_utf8():
    assert encoding_for("latin-1").key == "utf8"
    assert encoding_for("SJIS").key == "sjis"
    assert encoding_for(None).key == "utf8"


def test_timestamps_lose_microseconds():
    assert format_datetime(dt.datetime(2026, 1, 5, 10, 0, 0, 123456)) == "2026-01-05 10:00:00"
    assert format_datetime("2026-01-05 10:00:00.123456") == "2026-01-05 10:00:00"
    assert format_datetime(None) == ""


def test_file_name_has_the_range_and_rfc5987_header():
    name = download_name("着信・SMS送信レポート", dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    assert name == "着信・SMS送信レポート_20260101-20260131.csv"
    header = content_disposition(name)
    assert header.startswith('attachment; filename="SMS_20260101-20260131.csv"; ')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == name
    assert all(ord(ch) < 128 for ch in header)
