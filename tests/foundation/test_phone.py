"""core.phone: numbers as staff type them and Twilio sends them → E.164, kind, display, search, SMS check (pure)."""
import phonenumbers
import pytest

from core import phone
from core.phone import Kind, check_mobile


# --- classify: every prefix class -----------------------------------------------------------------------------
@pytest.mark.parametrize("raw, kind", [
    ("090-1234-5678", Kind.MOBILE),
    ("080-1234-5678", Kind.MOBILE),
    ("070-1234-5678", Kind.MOBILE),
    ("060-1234-5678", Kind.MOBILE),             # the newest mobile prefix
    ("+819012345678", Kind.MOBILE),
    ("090-0123-4567", Kind.UNASSIGNED),         # 0x0-0 is never given out
    ("080-0123-456", Kind.INVALID),             # …and short of a digit it is no number at all
    ("050-1234-5678", Kind.IP_PHONE),
    ("03-1234-5678", Kind.LANDLINE),
    ("06-1234-5678", Kind.LANDLINE),
    ("0467-12-3456", Kind.LANDLINE),
    ("0120-123-456", Kind.TOLL_FREE),
    ("0800-123-4567", Kind.TOLL_FREE),          # 080-0… shaped, but a whole 0800 free-dial number
    ("0570-123-456", Kind.NAVI_DIAL),
    ("0990-123-456", Kind.NAVI_DIAL),
    ("020-1234-5678", Kind.M2M),
    ("+1 415 555 0100", Kind.FOREIGN),
    ("+44 20 7183 8750", Kind.FOREIGN),
    ("anonymous", Kind.WITHHELD),
    ("+266696687", Kind.WITHHELD),
    ("Restricted", Kind.WITHHELD),
    ("", Kind.WITHHELD),                        # Twilio's From is empty for some withheld callers
    ("090-1234-56", Kind.INVALID),              # incomplete
    ("+8190123456", Kind.INVALID),              # what the block list used to store for it
    ("011-123-4567", Kind.INVALID),             # possible length, no such area code
    ("abc", Kind.INVALID),
])
def test_classify_every_prefix_class(raw, kind):
    assert phone.classify(raw) is kind


# --- to_e164: complete numbers only, whatever the separators and widths ---------------------------------------
@pytest.mark.parametrize("raw, e164", [
    ("09012345678", "+819012345678"),
    ("090-1234-5678", "+819012345678"),
    ("090 1234 5678", "+819012345678"),
    ("０９０－１２３４－５６７８", "+819012345678"),   # full-width digits and hyphen
    ("090ー1234ー5678", "+819012345678"),            # katakana prolonged sound mark as a dash
    ("090ｰ1234ｰ5678", "+819012345678"),             # its half-width form
    ("090‐1234―5678", "+819012345678"),             # hyphen and horizontal bar
    ("090−1234–5678", "+819012345678"),             # minus sign and en dash
    ("090﹣1234﹣5678", "+819012345678"),             # small hyphen-minus (sms accepted it, ivr did not)
    ("(03) 1234.5678", "+81312345678"),
    ("（０３）１２３４－５６７８", "+81312345678"),
    ("0120-123-456", "+81120123456"),
    ("+81 90-1234-5678", "+819012345678"),
    ("+1 (415) 555-0100", "+14155550100"),
])
def test_typed_numbers_become_e164(raw, e164):
    assert phone.to_e164(raw) == e164 and phone.is_complete(raw)


@pytest.mark.parametrize("raw", ["090-1234-56", "090-1234-567", "03-1234", "+8190123456", "+1 415 555", "0901234567a",
                                 "abc", "", None, "anonymous", "+266696687", "050-0000-0000"])
def test_incomplete_or_unassigned_numbers_have_no_e164(raw):
    assert phone.to_e164(raw) is None and not phone.is_complete(raw)


def test_a_possible_number_is_kept_where_completeness_is_not_asked():
    # The demo flow's fictional dialled number, and what Twilio sends, are stored as they can be read.
    assert phone.to_e164("050-0000-0000", complete=False) == "+815000000000"
    assert phone.e164_or_text(" +815000000000 ") == "+815000000000"
    assert phone.e164_or_text("0312345678") == "+81312345678"
    assert phone.e164_or_text("anonymous") == "anonymous"
    assert phone.e164_or_text("+266696687") == "+266696687"
    assert phone.e164_or_text(None) == ""


# --- withheld (非通知) as Twilio sends it ----------------------------------------------------------------------
@pytest.mark.parametrize("raw", ["anonymous", "Anonymous", " ANONYMOUS ", "restricted", "Restricted", "blocked",
                                 "unknown", "unavailable", "private", "+266696687", "+7378742833", "+2562533",
                                 "+86282452253", "+8656", "", None])
def test_withheld_callers_are_recognised(raw):
    assert phone.is_withheld(raw)


@pytest.mark.parametrize("raw", ["+819012345678", "0312345678", "withheld?", "+81266696687"])
def test_numbers_are_not_withheld(raw):
    assert not phone.is_withheld(raw)


def test_withheld_result_is_flagged_so_the_ivr_can_branch():
    assert check_mobile("Restricted").withheld is True and check_mobile("Restricted").code == "withheld"
    assert check_mobile("+266696687").withheld is True
    assert check_mobile("0312345678").withheld is False


# --- display: one format everywhere ------------------------------------------------------------------------------
@pytest.mark.parametrize("stored, shown", [
    ("+819012345678", "090-1234-5678"),
    ("+816012345678", "060-1234-5678"),
    ("+81312345678", "03-1234-5678"),           # landlines too (display_number left them as E.164)
    ("+81467123456", "0467-12-3456"),
    ("+81120123456", "0120-123-456"),
    ("+81800123456", "0800123456"),             # incomplete (0800 needs 7 more digits): bare digits
    ("+815012345678", "050-1234-5678"),
    ("+815000000000", "050-0000-0000"),         # the demo number: not assigned, but grouped as it reads
    ("+8190123456", "090123456"),               # incomplete: bare digits, so it does not look whole
    ("+14155550100", "+1 415-555-0100"),
    ("+442071838750", "+44 20 7183 8750"),
    ("anonymous", "非通知"),
    ("+266696687", "非通知"),
    ("", ""),
    (None, ""),
    ("withheld", "withheld"),                   # text that is no number stays as it is
])
def test_display_groups_numbers_for_screens(stored, shown):
    assert phone.display(stored) == shown


# --- search: partial and full-width input finds stored E.164 numbers -------------------------------------------
@pytest.mark.parametrize("raw, term", [
    ("090-1234-5678", "9012345678"),
    ("０９０１２３４", "901234"),
    ("+81 90 1234", "81901234"),
    ("5678", "5678"),
    ("  ", ""),
    ("anonymous", "anonymous"),
])
def test_search_term_matches_stored_e164_numbers(raw, term):
    assert phone.search_term(raw) == term
    assert term in "+819012345678" or not phone.looks_like_number(raw)


@pytest.mark.parametrize("text, number_like", [
    ("090-3333", True), ("０９０．３３", True), ("+81 90", True), ("090﹣3333", True), ("田中", False), ("", False),
])
def test_looks_like_number(text, number_like):
    assert phone.looks_like_number(text) is number_like


# --- numbers typed into a form: the field is named -------------------------------------------------------------
def test_parse_entry_names_the_field_and_the_input():
    assert phone.parse_entry("03-1234-5678", "転送先電話番号") == ("+81312345678", None)
    e164, problem = phone.parse_entry("090-1234-56", "発信者番号")
    assert e164 is None
    assert problem.startswith("発信者番号「090-1234-56」は電話番号として正しくありません。市外局番から最後の桁まで")
    assert "数字とハイフンで入力してください" in phone.parse_entry("abc", "発信者番号")[1]


# --- SMS recipients (R-21): the sms rules' cases, kept -------------------------------------------------------------
@pytest.mark.parametrize("raw, e164", [
    ("09012345678", "+819012345678"),
    ("090-1234-5678", "+819012345678"),
    ("090 1234 5678", "+819012345678"),
    ("０９０－１２３４－５６７８", "+819012345678"),
    ("090ー1234ー5678", "+819012345678"),
    ("090‐1234―5678", "+819012345678"),
    ("090−1234–5678", "+819012345678"),
    ("090﹣1234﹣5678", "+819012345678"),
    ("(090) 1234-5678", "+819012345678"),
    ("08012345678", "+818012345678"),
    ("07012345678", "+817012345678"),
    ("06012345678", "+816012345678"),
    ("+81 90-1234-5678", "+819012345678"),
    ("+819012345678", "+819012345678"),
])
def test_mobile_numbers_are_accepted_as_e164(raw, e164):
    assert check_mobile(raw) == phone.NumberCheck(True, e164, None)


@pytest.mark.parametrize("raw, code, words", [
    ("050-1234-5678", "ip_phone", "IP 電話"),
    ("020-1234-5678", "m2m", "M2M"),
    ("090-0123-4567", "unassigned", "090-0 から始まる番号は携帯電話に割り当てられていない"),
    ("080-0123-4567", "unassigned", "080-0"),
    ("070-0123-4567", "unassigned", "070-0"),
    ("03-1234-5678", "landline", "固定電話"),
    ("06-1234-5678", "landline", "固定電話"),
    ("0120-123-456", "toll_free", "フリーダイヤル"),
    ("0570-123-456", "navi_dial", "ナビダイヤル"),
    ("090-1234-567", "mobile_length", "11 桁です（入力は 10 桁）"),
    ("090-1234-56", "mobile_length", "11 桁です（入力は 9 桁）"),
    ("090-1234-56789", "mobile_length", "11 桁です（入力は 12 桁）"),
    ("+1 415 555 0100", "foreign", "日本の携帯電話番号"),
    ("090-1234-567a", "characters", "使えない文字"),
    ("", "empty", "電話番号を入力してください"),
    (None, "empty", "電話番号を入力してください"),
    ("anonymous", "withheld", "非通知"),
    ("091-1234-5678", "invalid", "電話番号として正しくありません"),
])
def test_other_numbers_are_refused_with_their_own_japanese_reason(raw, code, words):
    result = check_mobile(raw)
    assert (result.ok, result.e164, result.code) == (False, None, code)
    assert words in result.reason


def test_each_refusal_kind_has_a_distinct_reason():
    reasons = {check_mobile(n).reason for n in ("05012345678", "02012345678", "09001234567", "0312345678")}
    assert len(reasons) == 4


def test_offending_characters_in_a_number_are_named():
    assert "「a」(U+0061)" in check_mobile("0901234567a").reason


def test_check_mobile_many_answers_in_order_and_judges_repeats_once():
    raws = ["090-1234-5678", "03-1234-5678", "090-1234-5678", None, "09012345678"]
    assert phone.check_mobile_many(raws) == [check_mobile(raw) for raw in raws]
    assert phone.check_mobile_many([]) == []


def full_rule(digits: str) -> bool:
    """What R-21 means, straight from phonenumbers: a valid number of type MOBILE."""
    try:
        parsed = phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:  # 010… is Japan's international prefix
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE


@pytest.mark.parametrize("body", ["0000000", "1234567", "9999999", "123456", "12345678"])
def test_the_fast_path_agrees_with_phonenumbers_for_every_prefix(body):
    for prefix in range(1000):
        digits = f"0{prefix:03d}{body}"
        result = check_mobile(digits)
        assert result.ok is full_rule(digits), digits
        if result.ok:
            assert result.e164 == "+81" + digits[1:]
        if phone.WELL_FORMED_MOBILE.fullmatch(digits):
            assert full_rule(digits), digits


@pytest.mark.parametrize("mobile_prefix", ["060", "070", "080", "090"])
def test_the_plain_number_shortcut_agrees_with_the_full_check_for_every_prefix_range(mobile_prefix):
    """Every 0x0-xxxx range, written as bulk lists write it (bare, hyphenated, spaced): the same verdict and E.164
    as the full check, and as phonenumbers itself."""
    for block in range(10000):
        digits = f"{mobile_prefix}{block:04d}5678"
        for written in (digits, f"{digits[:3]}-{digits[3:7]}-{digits[7:]}", f"{digits[:3]} {digits[3:7]} {digits[7:]}"):
            fast, full = check_mobile(written), phone.check_mobile_fully(written)
            assert fast == full, written
            assert fast.ok is full_rule(digits), written
    for unusual in ("０９０-１２３４-５６７８", "090‐1234‐5678", "+81 90-1234-5678", "090--1234-5678", " 09012345678",
                    "0901234567", "090123456789", "090-12345-678"):
        assert check_mobile(unusual) == phone.check_mobile_fully(unusual), unusual


def test_one_phone_filter_serves_every_page(app):
    # Registered once by the app factory; a feature registering its own would replace it for every page.
    assert app.jinja_env.filters["phone"] is phone.display
    with app.app_context():
        rendered = app.jinja_env.from_string("{{ '+81312345678' | phone }} {{ '+819012345678' | phone }}").render()
    assert rendered == "03-1234-5678 090-1234-5678"
