"""R-14: text normalisation before synthesis, on real IVR sentences (pure, no engine)."""
import pytest

from guidance.text import is_japanese, normalize_for_speech, normalize_width, read_digits


@pytest.mark.parametrize("text, expected", [
    ("０３−１２３４", "ゼロサンのイチニーサンヨン"),
    ("お問い合わせは03-1234-5678までお電話ください。",
     "お問い合わせはゼロサンのイチニーサンヨンのゴーロクナナハチまでお電話ください。"),
    ("電話番号は０３ー１２３４ー５６７８です", "電話番号はゼロサンのイチニーサンヨンのゴーロクナナハチです"),
    ("フリーダイヤル0120-123-456", "フリーダイヤルゼロイチニーゼロのイチニーサンのヨンゴーロク"),
    ("携帯09012345678へSMSを送ります", "携帯ゼロキューゼロイチニーサンヨンゴーロクナナハチへSMSを送ります"),
    ("受付番号は123456です。", "受付番号はイチニーサンヨンゴーロクです。"),
    ("〒100-0001", "郵便番号イチゼロゼロのゼロゼロゼロイチ"),
    ("ＦＡＸは０６－６１２３－４５６７です", "FAXはゼロロクのロクイチニーサンのヨンゴーロクナナです"),
    ("０１２０‐１１１‐２２２", "ゼロイチニーゼロのイチイチイチのニーニーニー"),
    ("お客様番号１２３４５６７８を入力してください。", "お客様番号イチニーサンヨンゴーロクナナハチを入力してください。"),
])
def test_phone_numbers_and_codes_are_read_digit_by_digit(text, expected):
    assert normalize_for_speech(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("受付時間は9:00〜18:00です。", "受付時間は9時から18時までです。"),
    ("受付時間は９：００～１８：３０です。", "受付時間は9時から18時30分までです。"),
    ("平日9:00-17:00まで受け付けます", "平日9時から17時まで受け付けます"),
    ("本日は9時〜17時半まで営業", "本日は9時から17時半まで営業"),
    ("2026/1/5（月）は休業日です", "2026年1月5日 月曜日は休業日です"),
    ("2026-01-05から再開します", "2026年1月5日から再開します"),
    ("12/29(火)から1/3(日)まで", "12月29日 火曜日から1月3日 日曜日まで"),
    ("営業時間は午前１０時から午後６時までです。", "営業時間は午前10時から午後6時までです。"),
    ("ご予約は２０２６年１２月２４日（木）までにお願いします。", "ご予約は2026年12月24日 木曜日までにお願いします。"),
    ("受付時間は平日の１０：３０〜１７：００です。", "受付時間は平日の10時30分から17時までです。"),
    ("１月５日（月）午前9:05から", "1月5日 月曜日午前9時5分から"),
])
def test_times_and_dates_are_read_naturally(text, expected):
    assert normalize_for_speech(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("料金は10,000円です", "料金は10000円です"),
    ("123456円のお支払い", "123456円のお支払い"),
    ("3件のメッセージがあります", "3件のメッセージがあります"),
    ("1を押してください", "1を押してください"),
    ("料金は１，０００円です", "料金は1000円です"),
    ("内線は１２３番です", "内線は123番です"),
    ("最短で3日後にお届けします", "最短で3日後にお届けします"),
])
def test_quantities_are_left_for_the_engine_to_read_as_numbers(text, expected):
    assert normalize_for_speech(text) == expected


def test_symbols_on_the_keypad_are_named():
    assert normalize_for_speech("最後に＃を、やり直しは＊を押してください") == "最後にシャープを、やり直しはコメジルシを押してください"


def test_widths_are_unified():
    assert normalize_width("ｶﾀｶﾅとＡＢＣ　１２３") == "カタカナとABC 123"


def test_read_digits_covers_every_digit():
    assert read_digits("0123456789") == "ゼロイチニーサンヨンゴーロクナナハチキュー"


@pytest.mark.parametrize("text, japanese", [
    ("お電話ありがとうございます", True), ("入力", True), ("ｶﾅ", True),
    ("Thank you for calling.", False), ("0120-123-456", False),
])
def test_is_japanese(text, japanese):
    assert is_japanese(text) is japanese
