"""R-22 (ISO-2022-JP characters, offending ones named, safe ones normalised) and R-23 (parts, 660 maximum)."""
import pytest

from sms.rules import check_text, count_parts, normalise


def check(text, max_length=660, **expansions):
    return check_text(text, max_length=max_length, expansions=expansions or None)


@pytest.mark.parametrize("length, parts", [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (660, 10), (0, 0)])
def test_parts_70_for_one_then_67_a_part(length, parts):
    assert count_parts(length) == parts


@pytest.mark.parametrize("length, ok, parts", [(70, True, 1), (71, True, 2), (134, True, 2), (135, True, 3),
                                              (660, True, 10), (661, False, 10)])
def test_texts_of_each_boundary_length(length, ok, parts):
    result = check("あ" * length)
    assert (result.length, result.ok, result.parts) == (length, ok, parts)
    if not ok:
        assert result.errors == ("本文が長すぎます（661 文字。最大 660 文字）。",)


def test_maximum_follows_the_setting():
    assert not check("a" * 101, max_length=100).ok
    assert check("a" * 100, max_length=100).ok


@pytest.mark.parametrize("text", ["お問い合わせありがとうございます。", "漢字カタカナＡＢＣ１２３abc", "〜−※→☆♪",
                                  "改行も\n使えます", "価格は¥1,000です"])
def test_iso_2022_jp_text_passes(text):
    result = check(text)
    assert result.ok and result.offending == () and result.text == text


@pytest.mark.parametrize("text, offenders", [
    ("髙橋様", ("髙",)),
    ("﨑田様😀", ("﨑", "😀")),
    ("ハート♡と♥", ("♡", "♥")),
    ("😀😀😀", ("😀",)),
])
def test_characters_outside_iso_2022_jp_are_named(text, offenders):
    result = check(text)
    assert not result.ok
    assert result.offending == offenders
    message = result.errors[0]
    assert message.startswith("ISO-2022-JP（JIS）で送信できない文字が含まれています")
    for ch in offenders:
        assert f"「{ch}」(U+{ord(ch):04X})" in message


@pytest.mark.parametrize("original, normalised", [
    ("9:00～18:00", "9:00〜18:00"),
    ("０３－１２３４", "０３−１２３４"),
    ("ｶﾞｲﾄﾞ", "ガイド"),
    ("ｱｲｳｴｵｰ", "アイウエオー"),
    ("①と⑳", "(1)と(20)"),
    ("㈱サンプル", "(株)サンプル"),
    ("Ⅲ章", "III章"),
    ("㌔", "キロ"),
    ("No\u00a0break", "No break"),
    ("行1\r\n行2", "行1\n行2"),
])
def test_safe_equivalents_are_substituted(original, normalised):
    result = check(original)
    assert result.ok, result.errors
    assert result.text == normalised
    assert result.text.encode("iso2022_jp")


def test_replacements_are_reported_once_each():
    text, replaced = normalise("～～①")
    assert text == "〜〜(1)"
    assert replaced == [("～", "〜"), ("①", "(1)")]


def test_special_characters_are_allowed_but_warned():
    result = check("お知らせ※詳細は→こちら☆")
    assert result.ok
    assert result.special == ("※", "→", "☆")
    assert "特殊文字" in result.warnings[0] and "※" in result.warnings[0]


def test_control_characters_are_refused_and_named_by_code_point():
    result = check("abc\x00def")
    assert not result.ok and "制御文字(U+0000)" in result.errors[0]


def test_empty_text_is_refused():
    assert check("   ").errors == ("本文を入力してください。",)


def test_placeholders_count_at_their_expanded_length():
    result = check("詳細 {url}", **{"{url}": 30})
    assert result.length == len("詳細 ") + 30


def test_url_placeholder_without_a_url_is_refused():
    result = check("詳細 {url}", **{"{url}": None})
    assert result.errors == ("本文に {url} がありますが、URLが設定されていないため使えません。",)
