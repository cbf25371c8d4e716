"""Recipient lists (R-40, R-41): CSV in every encoding Japanese offices produce, pasted numbers, de-duplication."""
import pytest

from sms.bulk.recipients import (
    SKIP_EMPTY,
    SKIP_OPTED_OUT,
    Candidate,
    CsvError,
    collect,
    decode_lines,
    parse_pasted,
    read_csv,
)

SJIS_WITH_HEADER = "氏名,電話番号,メモ\r\n山田太郎,090-1234-5678,常連\r\n鈴木花子,080-2222-3333,髙橋様の紹介\r\n".encode("cp932")


def test_shift_jis_csv_with_header_finds_the_phone_column_by_title():
    table = read_csv(SJIS_WITH_HEADER)
    assert table.encoding == "cp932"
    assert table.header == ["氏名", "電話番号", "メモ"]
    assert table.column == 1
    assert table.column_label == "2 列目「電話番号」"
    assert [(c.raw, c.line) for c in table.candidates] == [("090-1234-5678", 2), ("080-2222-3333", 3)]
    assert table.broken == []


def test_utf8_bom_csv_keeps_the_first_header_clean():
    data = "\ufeff携帯番号,名前\n09011112222,佐藤\n".encode("utf-8")
    table = read_csv(data)
    assert table.encoding == "utf-8-sig"
    assert table.header == ["携帯番号", "名前"]
    assert [c.raw for c in table.candidates] == ["09011112222"]


def test_utf8_without_bom_and_no_header_finds_the_column_by_its_content():
    table = read_csv("田中,090-3333-4444\n高橋,070-5555-6666\n".encode())
    assert table.encoding == "utf-8" and table.header is None and table.column == 1
    assert [(c.raw, c.line) for c in table.candidates] == [("090-3333-4444", 1), ("070-5555-6666", 2)]


def test_broken_rows_are_reported_with_line_numbers_and_the_rest_kept():
    data = ("名前,電話番号\n"
            "A,09011110001\n"
            'B,"09011110002\n'      # line 3: a quote that never closes
            "C,09011110003\n"
            "D\n"                    # line 5: no phone column
            "E,\n"                   # line 6: empty phone
            "F,09011110006\n").encode()
    table = read_csv(data)
    assert [c.raw for c in table.candidates] == ["09011110001", "09011110003", "09011110006"]
    assert [(b.line, b.reason) for b in table.broken] == [
        (3, '引用符 (") が閉じられていません'), (5, "列が足りません (1 列しかありません)")]
    assert [(s.line, s.reason) for s in table.skipped] == [(6, SKIP_EMPTY)]


def test_a_line_in_another_encoding_is_reported_and_the_rest_read():
    data = "電話番号,名前\n09011110001,山田\n".encode() + "09011110002,髙橋\n".encode("cp932") \
        + "09011110003,佐藤\n".encode()
    encoding, lines = decode_lines(data)
    assert encoding == "utf-8" and lines[2] == (3, None)
    table = read_csv(data)
    assert [c.raw for c in table.candidates] == ["09011110001", "09011110003"]
    assert [(b.line, b.reason) for b in table.broken] == [(3, "文字コードを読み取れない文字があります")]


def test_quoted_field_with_a_newline_is_one_row_and_line_numbers_stay_true():
    data = '電話番号,住所\n09011110001,"東京都\n千代田区"\n09011110002,大阪\n'.encode()
    table = read_csv(data)
    assert [(c.raw, c.line) for c in table.candidates] == [("09011110001", 2), ("09011110002", 4)]


def test_tab_separated_file():
    table = read_csv("名前\t電話\n山田\t09011110001\n".encode())
    assert [c.raw for c in table.candidates] == ["09011110001"]


def test_chosen_column_by_title_or_number():
    data = "自宅,携帯\n0312345678,09011110001\n".encode()
    assert [c.raw for c in read_csv(data, column="携帯").candidates] == ["09011110001"]
    assert [c.raw for c in read_csv(data, column="1").candidates] == ["0312345678"]
    with pytest.raises(CsvError) as error:
        read_csv(data, column="FAX")
    assert "FAX" in error.value.message and error.value.columns == ["自宅", "携帯"]


def test_no_phone_column_asks_the_user_to_choose():
    with pytest.raises(CsvError) as error:
        read_csv("名前,メモ\n山田,常連\n".encode())
    assert error.value.message == "電話番号の列が見つかりません。電話番号の列を選んでください。"
    assert error.value.columns == ["名前", "メモ"]


@pytest.mark.parametrize("data", [b"", b"  \r\n\r\n"])
def test_empty_file(data):
    with pytest.raises(CsvError, match="空"):
        read_csv(data)


def test_pasted_numbers_one_a_line_or_separated():
    assert parse_pasted("090-1111-2222\n\n 080 3333 4444 , 070-5555-6666、09077778888\n06011112222 07011112222\tx") == [
        Candidate("090-1111-2222", 1), Candidate("080 3333 4444", 3), Candidate("070-5555-6666", 3),
        Candidate("09077778888", 3), Candidate("06011112222", 4), Candidate("07011112222", 4), Candidate("x", 4)]


def test_duplicates_hyphenated_and_full_width_are_sent_once(check_mobile):
    candidates = [Candidate(raw, i) for i, raw in enumerate(
        ["09012345678", "090-1234-5678", "０９０－１２３４－５６７８", "+819012345678", "08011112222"], start=1)]
    result = collect(candidates, check_mobile)
    assert result.numbers == ["+819012345678", "+818011112222"]
    assert [c.line for c in result.duplicates] == [2, 3, 4]
    assert result.recipients[0].raw == "09012345678"


def test_non_mobile_numbers_are_skipped_with_the_reason(check_mobile):
    candidates = [Candidate(raw, i) for i, raw in enumerate(
        ["0312345678", "05012345678", "09001234567", "abc", "09012345678"], start=1)]
    result = collect(candidates, check_mobile)
    assert result.numbers == ["+819012345678"]
    assert [s.line for s in result.skipped] == [1, 2, 3, 4]
    assert all(s.reason for s in result.skipped)
    assert len({s.reason for s in result.skipped}) >= 2  # landline and IP phone are told apart


def test_incomplete_numbers_are_skipped_not_sent(check_mobile):
    pasted = parse_pasted("090-1234-56\n０９０１２３４５６７\n+8190123456\n090-1234-5678")
    result = collect(pasted, check_mobile)
    assert result.numbers == ["+819012345678"]
    assert [(s.line, s.reason) for s in result.skipped] == [
        (1, "携帯電話番号は 11 桁です（入力は 9 桁）。"), (2, "携帯電話番号は 11 桁です（入力は 10 桁）。"),
        (3, "携帯電話番号は 11 桁です（入力は 9 桁）。")]


def test_opted_out_numbers_are_skipped_and_counted(check_mobile):
    candidates = [Candidate("090-1234-5678", 1), Candidate("08011112222", 2), Candidate("09012345678", 3)]
    result = collect(candidates, check_mobile, opted_out={"+819012345678"})
    assert result.numbers == ["+818011112222"]
    assert [(s.raw, s.reason) for s in result.opted_out] == [("090-1234-5678", SKIP_OPTED_OUT)]
    assert len(result.duplicates) == 1  # the opted-out number written twice is still one number
