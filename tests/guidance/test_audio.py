"""Telephone audio files, upload decoding, and the public /audio/ endpoint with its cache headers."""

import numpy as np
import pytest

from guidance import audio
from guidance.tts import Speech
from tests.guidance.conftest import recording, tone
from tests.support.wav import decode_wav, read_wav_info, rms


def test_to_telephone_resamples_mixes_and_clips():
    speech = Speech(samples=tone(2.0, 44100, 1) * 3.0, rate=44100)  # deliberately too loud
    pcm = audio.to_telephone(speech)
    assert pcm.dtype == np.int16 and len(pcm) == 16000
    assert pcm.max() == 32767 and pcm.min() == -32768


def test_pcm_wav_header_is_what_twilio_expects():
    wav = audio.encode_wav(np.zeros(8001, dtype=np.int16))
    info = read_wav_info(wav)
    assert (info.format_tag, info.channels, info.rate, info.bits, info.frames) == (1, 1, 8000, 16, 8001)
    assert info.encoding == "pcm16"
    assert int.from_bytes(wav[4:8], "little") == len(wav) - 8


def test_mu_law_wav_of_odd_length_is_padded_and_readable():
    pcm = audio.to_telephone(Speech(tone(0.5, 8000, 1)[:3999], 8000))
    wav = audio.encode_wav(pcm, "ulaw")
    assert len(wav) % 2 == 0
    info = read_wav_info(wav)
    assert (info.encoding, info.frames) == ("ulaw", 3999)
    decoded = decode_wav(wav)
    assert len(decoded.samples) == 3999
    assert abs(rms(decoded.samples) - rms(pcm / 32768)) < 0.01


@pytest.mark.parametrize("sample, code", [(0, 0xFF), (-1, 0x7F), (32767, 0x80), (-32768, 0x00), (1000, 0xCE)])
def test_mu_law_matches_g711_reference_values(sample, code):
    assert audio.ulaw_encode(np.array([sample], dtype=np.int16)) == bytes([code])


@pytest.mark.parametrize("fmt, subtype", [("WAV", "PCM_16"), ("WAV", "PCM_24"), ("WAV", "FLOAT"), ("WAV", "ULAW"),
                                          ("MP3", None)])
def test_uploads_in_common_formats_are_decoded(fmt, subtype):
    speech = audio.decode_upload(recording(fmt, seconds=1.5, rate=44100, channels=2, subtype=subtype))
    assert speech.samples.ndim == 1
    assert 1.4 < speech.seconds < 1.7
    pcm = audio.to_telephone(speech)
    assert rms(pcm / 32768) > 0.2  # the 0.4-amplitude tone survives


@pytest.mark.parametrize("data, message", [
    (b"", "空"),
    (b"this is a text file, not a recording\n" * 40, "音声ファイルとして読み込めません"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, "音声ファイルとして読み込めません"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt garbage", "読み込めません"),
])
def test_non_audio_uploads_are_refused_in_japanese(data, message):
    with pytest.raises(audio.NotAudio, match=message):
        audio.decode_upload(data)


def test_other_audio_formats_are_refused_by_name():
    with pytest.raises(audio.NotAudio, match="FLAC 形式には対応していません"):
        audio.decode_upload(recording("FLAC", seconds=0.5, channels=1))


def test_store_names_files_by_content_and_keeps_one_copy(tmp_path):
    first = audio.store(tmp_path, b"RIFF-one")
    again = audio.store(tmp_path, b"RIFF-one")
    other = audio.store(tmp_path, b"RIFF-two")
    assert first == again != other
    assert audio.is_audio_hash(first)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{first}.wav", f"{other}.wav"])


# --- the public endpoint ---------------------------------------------------------------------------------------
@pytest.fixture
def stored(app):
    from guidance.service import audio_directory

    pcm = audio.to_telephone(Speech(tone(0.5, 8000, 1), 8000))
    return audio.store(audio_directory(), audio.encode_wav(pcm))


@pytest.mark.sqlite_only
def test_audio_is_served_without_login_with_cache_headers(client, stored):
    response = client.get(f"/audio/{stored}.wav")
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    assert response.headers["ETag"] == f'"{stored}"'
    assert "public" in response.headers["Cache-Control"] and "max-age=31536000" in response.headers["Cache-Control"]
    info = read_wav_info(response.data)
    assert (info.rate, info.channels) == (8000, 1)


@pytest.mark.sqlite_only
def test_revalidation_gets_304_without_a_body(client, stored):
    response = client.get(f"/audio/{stored}.wav", headers={"If-None-Match": f'"{stored}"'})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == f'"{stored}"'
    assert "max-age" in response.headers["Cache-Control"]
    stale = client.get(f"/audio/{stored}.wav", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.data[:4] == b"RIFF"


@pytest.mark.sqlite_only
def test_range_requests_from_browsers_are_honoured(client, stored):
    response = client.get(f"/audio/{stored}.wav", headers={"Range": "bytes=0-43"})
    assert response.status_code == 206
    assert len(response.data) == 44 and response.data[:4] == b"RIFF"


@pytest.mark.sqlite_only
@pytest.mark.parametrize("path", ["/audio/" + "0" * 32 + ".wav", "/audio/not-a-hash.wav", "/audio/../app.db.wav"])
def test_unknown_or_malformed_audio_is_404(client, stored, path):
    assert client.get(path).status_code == 404
