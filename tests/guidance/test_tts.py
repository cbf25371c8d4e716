"""Real speech: Open JTalk for Japanese, pyttsx3 (espeak-ng) for English, made telephone quality and checked."""
import sys

import numpy as np
import pytest

from guidance import audio
from guidance.text import normalize_for_speech
from guidance.tts import ENGINES, EngineUnavailable, Pyttsx3Engine, SynthesisError, get_engine
from tests.support.wav import decode_wav, read_wav_info, rms

DICT_DIR = "/var/lib/mecab/dic/open-jtalk/naist-jdic"
TIMEOUT_TEXT = "入力が確認できません。案内をお聞きいただきもう一度入力してください。"


def telephone(speech, volume=1.0, encoding="pcm16"):
    wav, duration_ms = audio.telephone_wav(speech, volume, encoding)
    return wav, duration_ms, read_wav_info(wav), decode_wav(wav)


def test_open_jtalk_japanese_sentence_becomes_8khz_mono_speech():
    engine = get_engine("openjtalk")
    speech = engine.synthesize(engine.prepare_text(TIMEOUT_TEXT), "mei_normal", 1.0, DICT_DIR)
    wav, duration_ms, info, decoded = telephone(speech)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert (info.format_tag, info.channels, info.rate, info.bits) == (1, 1, 8000, 16)
    # 34 characters of Japanese at a normal pace: several seconds, not a blip and not a minute.
    assert 3.0 < info.seconds < 12.0
    assert abs(duration_ms - info.seconds * 1000) < 2
    assert decoded.rate == 8000
    assert rms(decoded.samples) > 0.02  # speech, not silence
    # Speech has pauses: the quietest tenth of 50 ms frames is far quieter than the loudest.
    frames = decoded.samples[: len(decoded.samples) // 400 * 400].reshape(-1, 400)
    energy = np.sort(np.sqrt((frames ** 2).mean(axis=1)))
    assert energy[len(energy) // 10] < energy[-len(energy) // 10] / 5


def test_kanji_are_read_as_words_not_letter_names():
    engine = get_engine("openjtalk")
    assert engine.reading("お電話ありがとうございます", DICT_DIR) == "オデンワアリガトーゴザイマス"
    assert engine.reading("入力が間違っています", DICT_DIR) == "ニューリョクガマチガッテイマス"
    short = engine.synthesize("入力", "mei_normal", 1.0, DICT_DIR)
    longer = engine.synthesize("入力が間違っています", "mei_normal", 1.0, DICT_DIR)
    assert 0.3 < short.seconds < longer.seconds < 4.0


def test_normalised_phone_number_is_spoken_digit_by_digit():
    engine = get_engine("openjtalk")
    reading = engine.reading(normalize_for_speech("お問い合わせは03-1234-5678まで"), DICT_DIR)
    assert "ゼロサンノイチニーサンヨンノゴーロクナナハチ" in reading


@pytest.mark.parametrize("text, spoken", [
    ("2026/1/5（月）は休業日です", "ニセンニジューロクネンイチガツイツカ"),
    ("受付時間は９：３０～１８：００です", "クジサンジュップンカラジューハチジマデ"),
    ("お客様番号１２３４５６７８を入力してください", "イチニーサンヨンゴーロクナナハチヲニューリョク"),
    ("＃を押してください", "シャープヲオシテクダサイ"),
])
def test_normalised_dates_times_and_codes_reach_the_engine_as_japanese_ivrs_say_them(text, spoken):
    assert spoken in get_engine("openjtalk").reading(normalize_for_speech(text), DICT_DIR)


def test_speed_and_volume_change_the_audio():
    engine = get_engine("openjtalk")
    normal = engine.synthesize("お電話ありがとうございます", "mei_normal", 1.0, DICT_DIR)
    fast = engine.synthesize("お電話ありがとうございます", "mei_normal", 1.5, DICT_DIR)
    assert fast.seconds < normal.seconds * 0.8
    quiet = audio.to_telephone(normal, 0.3)
    loud = audio.to_telephone(normal, 1.0)
    assert rms(quiet) < rms(loud) * 0.4


def test_text_without_anything_to_say_is_refused_in_japanese():
    engine = get_engine("openjtalk")
    with pytest.raises(SynthesisError, match="読み上げられる文字がありません"):
        engine.synthesize("、、、。", "mei_normal", 1.0, DICT_DIR)


def test_missing_dictionary_names_the_debian_package(tmp_path):
    engine = get_engine("openjtalk")
    with pytest.raises(EngineUnavailable, match="open-jtalk-mecab-naist-jdic"):
        engine.synthesize("こんにちは", "mei_normal", 1.0, str(tmp_path / "no-dictionary"))
    assert not any(tmp_path.iterdir())  # nothing downloaded or extracted


def test_missing_pyopenjtalk_names_the_debian_package(monkeypatch):
    # None in sys.modules makes `import pyopenjtalk` fail exactly as on a machine without it.
    monkeypatch.setitem(sys.modules, "pyopenjtalk", None)
    with pytest.raises(EngineUnavailable, match="pyopenjtalk.*open-jtalk-mecab-naist-jdic"):
        get_engine("openjtalk").check(DICT_DIR)


def test_missing_espeak_ng_names_the_debian_package(monkeypatch):
    import pyttsx3

    def no_library(driver_name=None, debug=False):
        raise OSError("libespeak-ng.so.1: cannot open shared object file: No such file or directory")

    monkeypatch.setattr(pyttsx3, "init", no_library)
    engine = Pyttsx3Engine()  # a fresh one: the shared engine already holds a working driver
    with pytest.raises(EngineUnavailable, match="Debian パッケージ espeak-ng"):
        engine.check()
    with pytest.raises(EngineUnavailable, match="apt-get install espeak-ng"):
        engine.synthesize("Hello", "en", 1.0)


def test_open_jtalk_offers_the_voice_shipped_with_pyopenjtalk():
    voices = ENGINES["openjtalk"].voices()
    assert "mei_normal" in voices and all(name != "LICENSE_mei_normal" for name in voices)


def test_pyttsx3_reads_an_english_sentence():
    engine = get_engine("pyttsx3")
    speech = engine.synthesize("Thank you for calling. Please press one for sales.", "en", 1.0)
    _wav, _, info, decoded = telephone(speech)
    assert (info.channels, info.rate, info.bits) == (1, 8000, 16)
    assert 1.5 < info.seconds < 8.0
    assert rms(decoded.samples) > 0.02


def test_pyttsx3_back_to_back_sentences_each_get_their_own_audio():
    # pyttsx3 drives espeak-ng asynchronously; every call must still return its own, complete sentence.
    engine = get_engine("pyttsx3")
    long_text, short_text = "Thank you for calling. Please press one for sales.", "Hello."
    lengths = [engine.synthesize(long_text if n % 2 == 0 else short_text, "en", 1.0).seconds for n in range(12)]
    assert all(seconds > 1.5 for seconds in lengths[0::2])
    assert all(0.2 < seconds < 1.2 for seconds in lengths[1::2])


def test_pyttsx3_refuses_japanese_text_it_would_spell_out():
    with pytest.raises(SynthesisError, match="日本語"):
        get_engine("pyttsx3").synthesize("お電話ありがとうございます", "en", 1.0)


def test_pyttsx3_unknown_voice_is_refused():
    with pytest.raises(SynthesisError, match="声"):
        get_engine("pyttsx3").synthesize("Hello", "no-such-voice-xyz", 1.0)


def test_unknown_engine_is_refused():
    with pytest.raises(SynthesisError, match="エンジン"):
        get_engine("festival")


def test_mu_law_encoding_round_trips_close_to_the_original():
    engine = get_engine("openjtalk")
    speech = engine.synthesize("ご利用ありがとうございました", "mei_normal", 1.0, DICT_DIR)
    pcm_wav, _, pcm_info, pcm = telephone(speech, encoding="pcm16")
    ulaw_wav, _, ulaw_info, ulaw = telephone(speech, encoding="ulaw")
    assert (ulaw_info.format_tag, ulaw_info.bits, ulaw_info.rate, ulaw_info.channels) == (7, 8, 8000, 1)
    assert ulaw_info.frames == pcm_info.frames
    assert len(ulaw_wav) < len(pcm_wav) * 0.6
    error = rms(ulaw.samples - pcm.samples)
    assert error < rms(pcm.samples) * 0.05  # G.711 keeps speech at about 38 dB SNR
