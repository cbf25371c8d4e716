"""core.csvfile, pure: cells Excel can neither run nor reshape, read back with Python's csv module in both
encodings; BOM; chunking; the download's headers."""
import csv
import datetime as dt
import io
from decimal import Decimal
from urllib.parse import unquote

import pytest

from core.csvfile import (
    FORMULA_STARTS,
    UTF8_BOM,
    LineWriter,
    cell,
    content_disposition,
    csv_chunks,
    csv_download,
    encoding_for,
    format_datetime,
    line_chunks,
    neutral_text,
)
from reports.exports import download_name

HEADER = ["日時", "発信者番号", "メニュー", "件数"]
ROWS = [
    ["2026-01-05 10:00:00", "090-1234-5678", "受付メニュー", 3],
    ["2026-01-05 11:30:00", "080-1234-5678", "髙橋様向け案内, \"特別\"\n2行目", 0],
    ["2026-01-06 09:00:00", "", "ご案内〜お知らせ−①😀", None],
]
HOSTILE = ["=1+2", "+cmd", "-1", "@SUM(A1)", "\tタブ", "\r改行", "＝1＋2", "＋cmd", "－1", "＠SUM", "﹦1", "=HYPERLINK(\"x\")"]


def read_back(data: bytes, codec: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(codec), newline="")))


def test_utf8_default_has_bom_and_reads_back_exactly():
    data = b"".join(csv_chunks(HEADER, ROWS))
    assert data.startswith(UTF8_BOM)
    assert data.count(UTF8_BOM) == 1
    rows = read_back(data, "utf-8-sig")
    assert rows[0] == HEADER
    assert rows[1] == ["2026-01-05 10:00:00", "090-1234-5678", "受付メニュー", "3"]
    assert rows[2][2] == "髙橋様向け案内, \"特別\"\n2行目"
    assert rows[3] == ["2026-01-06 09:00:00", "", "ご案内〜お知らせ−①😀", ""]
    assert data.endswith(b"\r\n")


def test_shift_jis_has_no_bom_and_shows_what_cp932_lacks_as_geta():
    data = b"".join(csv_chunks(HEADER, ROWS, "sjis"))
    assert not data.startswith(UTF8_BOM)
    rows = read_back(data, "cp932")
    assert rows[0] == HEADER
    assert rows[2][2] == "髙橋様向け案内, \"特別\"\n2行目"  # 髙 exists in cp932 (IBM extension)
    # WAVE DASH and MINUS map to cp932's look-alikes, ① is in cp932, the emoji becomes the geta mark.
    assert rows[3][2] == "ご案内～お知らせ－①〓"


def test_a_lone_surrogate_never_breaks_a_download():
    for key, codec in (("utf8", "utf-8-sig"), ("sjis", "cp932")):
        rows = read_back(b"".join(csv_chunks(["本文"], [["a\ud800b"]], key)), codec)
        assert rows[1] == ["a〓b"]


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


@pytest.mark.parametrize("value", HOSTILE)
def test_text_excel_would_run_starts_with_an_apostrophe(value):
    assert neutral_text(value) == "'" + value
    rows = read_back(b"".join(csv_chunks([value], [[value, "x"]])), "utf-8-sig")
    assert rows[0][0] == rows[1][0] == "'" + value
    assert rows[1][0][0] not in FORMULA_STARTS


@pytest.mark.parametrize("value, shown", [
    ("+819012345678", "'+819012345678"),   # Excel: 8.19012E+11
    ("819012345678", "'819012345678"),     # 12 digits: 8.19012E+11 as well
    ("09012345678", "'09012345678"),       # the leading zero would go
    ("0", "0"),
    ("12345678901", "12345678901"),        # 11 digits: Excel shows them all
    ("090-1234-5678", "090-1234-5678"),
    ("０９０１２３４５６７８", "０９０１２３４５６７８"),
    ("受付", "受付"),
    ("", ""),
])
def test_numbers_in_text_stay_text(value, shown):
    assert neutral_text(value) == shown


def test_guarding_twice_changes_nothing():
    for value in [*HOSTILE, "+819012345678", "09012345678", "受付"]:
        assert neutral_text(neutral_text(value)) == neutral_text(value)


def test_numbers_stay_numbers_and_other_values_become_text():
    assert [cell(v) for v in (3, -1, 2.5, Decimal(-4), None)] == [3, -1, 2.5, Decimal(-4), ""]
    assert cell(dt.datetime(2026, 1, 5, 10, 0, 0, 123456)) == "2026-01-05 10:00:00"
    assert cell(dt.date(2026, 1, 5)) == "2026-01-05"
    assert read_back(b"".join(csv_chunks(["n"], [[-1], ["-1"]])), "utf-8-sig")[1:] == [["-1"], ["'-1"]]


def test_stored_lines_come_out_as_written():
    writer = LineWriter()
    lines = [writer.line(["=1+2", "+819012345678", 7]), writer.line(["a,b", "\"q\"", None])]
    assert lines == ["'=1+2,'+819012345678,7", "\"a,b\",\"\"\"q\"\"\","]
    data = b"".join(line_chunks(["a", "b", "c"], [lines, []], "sjis"))
    assert read_back(data, "cp932") == [["a", "b", "c"], ["'=1+2", "'+819012345678", "7"], ["a,b", "\"q\"", ""]]


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


def test_a_name_with_quotes_or_only_japanese_keeps_the_header_well_formed():
    header = content_disposition('配信"履歴";\\.csv')
    assert header.startswith('attachment; filename=".csv"; filename*=UTF-8\'\'')
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == '配信"履歴";\\.csv'
    assert content_disposition("一覧").startswith('attachment; filename="download.csv"')


def test_the_download_response_has_one_charset_and_streams():
    from flask import Flask

    app = Flask(__name__)
    for key, charset in (("utf8", "utf-8"), ("sjis", "Shift_JIS")):
        with app.test_request_context("/"):
            response = csv_download("一覧.csv", ["番号"], iter([["1"]]), key)
        assert response.headers["Content-Type"] == f"text/csv; charset={charset}"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.is_streamed
