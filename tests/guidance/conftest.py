"""Fixtures of the guidance tests: real synthesis, generated recordings, stored-audio helpers."""
from __future__ import annotations

import io

import numpy as np
import pytest


@pytest.fixture
def make_voice_file(app):
    """Create a synthesized voice file through the service (real Open JTalk audio)."""
    from guidance.forms import VoiceFileInput
    from guidance.service import save_voice_file, synthesis_defaults

    def make(name: str = "挨拶", text: str = "こんにちは。", **changes):
        defaults = synthesis_defaults()
        engine = changes.pop("engine", defaults.engine)
        data = VoiceFileInput(name=name, source="tts", text=text, engine=engine,
                              voice=changes.pop("voice", defaults.voices[engine]),
                              speed=changes.pop("speed", defaults.speed), volume=changes.pop("volume", defaults.volume))
        return save_voice_file(None, data)

    return make


@pytest.fixture
def stored_audio(app):
    """The bytes of a stored WAV by hash."""
    from guidance.audio import audio_file
    from guidance.service import audio_directory

    def read(audio_hash: str) -> bytes:
        return audio_file(audio_directory(), audio_hash).read_bytes()

    return read


def tone(seconds: float = 1.0, rate: int = 44100, channels: int = 2, frequency: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.4 * np.sin(2 * np.pi * frequency * t)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def recording(fmt: str = "WAV", seconds: float = 1.0, rate: int = 44100, channels: int = 2,
              subtype: str | None = None) -> bytes:
    """A recorded file as a user would upload it (made with libsndfile, the same library that reads it)."""
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, tone(seconds, rate, channels), rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@pytest.fixture
def make_recording():
    return recording
