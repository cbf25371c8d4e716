"""R-21: Japanese mobile numbers only, with a reason for each refusal (pure, no Flask)."""
import pytest

from sms.rules import check_mobile, display_number, is_withheld


@pytest.mark.parametrize("raw, e164", [
    ("09012345678", "+819012345678"),
    ("090-1234-5678", "+819012345678"),
    ("090 1234 5678", "+819012345678"),
    ("０９０－１２３４－５６７８", "+819012345678"),     # full-width digits and hyphen
    ("090ー1234ー5678", "+819012345678"),              # katakana prolonged sound mark as a dash
    ("090‐1234―5678", "+819012345678"),               # hyphen and horizontal bar
    ("090−1234–5678", "+819012345678"),               # minus sign and en dash
    ("(090) 1234-5678", "+819012345678"),
    ("08012345678", "+818012345678"),
    ("07012345678", "+817012345678"),
    ("06012345678", "+816012345678"),                 # 060, the newest mobile prefix
    ("+81 90-1234-5678", "+819012345678"),
    ("+819012345678", "+819012345678"),
])
def test_mobile_numbers_are_accepted_as_e164(raw, e164):
    result = check_mobile(raw)
    assert (result.ok, result.e164, result.reason) == (True, e164, None)


@pytest.mark.parametrize("raw, words", [
    ("050-1234-5678", "IP 電話"),
    ("020-1234-5678", "M2M"),
    ("090-0123-4567", "090-0 から始まる番号は携帯電話に割り当てられていない"),
    ("080-0123-4567", "080-0"),
    ("070-0123-4567", "070-0"),
    ("03-1234-5678", "固定電話"),
    ("06-1234-5678", "固定電話"),
    ("0120-123-456", "フリーダイヤル"),
    ("0570-123-456", "ナビダイヤル"),
    ("090-1234-567", "11 桁です（入力は 10 桁）"),
    ("090-1234-56789", "11 桁です（入力は 12 桁）"),
    ("+1 415 555 0100", "日本の携帯電話番号"),
    ("090-1234-567a", "使えない文字"),
    ("", "電話番号を入力してください"),
    ("anonymous", "非通知"),
    ("091-1234-5678", "電話番号として正しくありません"),
])
def test_other_numbers_are_refused_with_their_own_japanese_reason(raw, words):
    result = check_mobile(raw)
    assert result.ok is False and result.e164 is None
    assert words in result.reason


def test_each_refusal_kind_has_a_distinct_reason():
    reasons = {check_mobile(n).reason for n in ("05012345678", "02012345678", "09001234567", "0312345678")}
    assert len(reasons) == 4


@pytest.mark.parametrize("raw", ["anonymous", "Anonymous", "restricted", "+266696687", "unknown", ""])
def test_withheld_callers_are_recognised(raw):
    assert is_withheld(raw)


def test_withheld_result_is_flagged_so_the_ivr_can_branch():
    assert check_mobile("Restricted").withheld is True
    assert check_mobile("0312345678").withheld is False


def test_offending_characters_in_a_number_are_named():
    assert "「a」(U+0061)" in check_mobile("0901234567a").reason


def test_display_number_groups_digits_for_screens():
    assert display_number("+819012345678") == "090-1234-5678"
    assert display_number("+81312345678") == "+81312345678"
