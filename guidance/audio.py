"""Telephone audio: 8 kHz mono WAV (16-bit PCM or G.711 μ-law), content-addressed files, upload decoding."""
from __future__ import annotations

import hashlib
import io
import math
import struct
from pathlib import Path

import numpy as np

from core.config import ROOT
from core.files import write_atomically
from guidance.tts import Speech

TELEPHONE_RATE = 8000
HASH_LENGTH = 32  # hex characters of SHA-256 kept in the file name (128 bits)
UPLOAD_FORMATS = {"WAV": "WAV", "WAVEX": "WAV", "MP3": "MP3"}
MAX_UPLOAD_SECONDS = 15 * 60
FORMAT_PCM = 1
FORMAT_MULAW = 7


class NotAudio(Exception):
    """An upload that cannot be used as guidance audio; the message is Japanese."""


# --- conversion -------------------------------------------------------------------------------------------
def to_telephone(speech: Speech, volume: float = 1.0) -> np.ndarray:
    """Mono 8 kHz int16 samples: resampled with an anti-alias filter, scaled by `volume`, clipped."""
    samples = np.asarray(speech.samples, dtype=np.float64)
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if speech.rate != TELEPHONE_RATE:
        # Imported here: scipy.signal adds about 80 MB to a process, and web processes that never
        # synthesize (webhooks, reports, CSV exports) should not carry it.
        from scipy.signal import resample_poly

        common = math.gcd(TELEPHONE_RATE, int(speech.rate))
        samples = resample_poly(samples, TELEPHONE_RATE // common, int(speech.rate) // common)
    samples = np.clip(samples * float(volume), -1.0, 32767 / 32768)
    return np.round(samples * 32768).astype(np.int16)


def ulaw_encode(pcm: np.ndarray) -> bytes:
    """G.711 μ-law bytes for int16 samples (the classic segment/mantissa encoding)."""
    x = pcm.astype(np.int32)
    sign = (x < 0).astype(np.int32) << 7
    magnitude = np.minimum(np.abs(x), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def encode_wav(pcm: np.ndarray, encoding: str = "pcm16") -> bytes:
    """A complete 8 kHz mono WAV file: 16-bit PCM, or μ-law (8 bits, with the fact chunk it requires)."""
    if encoding == "ulaw":
        data = ulaw_encode(pcm)
        fmt = struct.pack("<HHIIHHH", FORMAT_MULAW, 1, TELEPHONE_RATE, TELEPHONE_RATE, 1, 8, 0)
        extra = b"fact" + struct.pack("<II", 4, len(pcm))
    else:
        data = pcm.astype("<i2").tobytes()
        fmt = struct.pack("<HHIIHH", FORMAT_PCM, 1, TELEPHONE_RATE, TELEPHONE_RATE * 2, 2, 16)
        extra = b""
    padding = b"\x00" * (len(data) % 2)
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
            + b"data" + struct.pack("<I", len(data)) + data + padding)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def telephone_wav(speech: Speech, volume: float, encoding: str) -> tuple[bytes, int]:
    """(WAV bytes, duration in ms) of speech made telephone quality."""
    pcm = to_telephone(speech, volume)
    return encode_wav(pcm, encoding), round(len(pcm) * 1000 / TELEPHONE_RATE)


def decode_upload(data: bytes) -> Speech:
    """Decode an uploaded WAV or MP3; NotAudio (Japanese) for anything else."""
    import soundfile

    if not data:
        raise NotAudio("ファイルが空です。WAV または MP3 の音声ファイルを選択してください。")
    try:
        info = soundfile.info(io.BytesIO(data))
    except (RuntimeError, soundfile.LibsndfileError, TypeError, ValueError):
        raise NotAudio("音声ファイルとして読み込めませんでした。WAV または MP3 の音声ファイルを選択してください。") from None
    if info.format not in UPLOAD_FORMATS:
        raise NotAudio(f"{info.format} 形式には対応していません。WAV または MP3 の音声ファイルを選択してください。")
    if info.duration > MAX_UPLOAD_SECONDS:
        raise NotAudio(f"録音が長すぎます（{info.duration / 60:.1f} 分）。{MAX_UPLOAD_SECONDS // 60} 分以内にしてください。")
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError):
        raise NotAudio("音声ファイルが壊れているため読み込めませんでした。") from None
    if len(samples) == 0:
        raise NotAudio("音声が入っていないファイルです。")
    return Speech(samples=samples.mean(axis=1), rate=int(rate))


# --- storage ----------------------------------------------------------------------------------------------
def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:HASH_LENGTH]


def is_audio_hash(value: str) -> bool:
    return len(value) == HASH_LENGTH and all(c in "0123456789abcdef" for c in value)


def audio_dir(configured: str) -> Path:
    """The configured directory; relative paths are under the project root (like the SQLite file)."""
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


def audio_file(directory: Path, audio_hash: str) -> Path:
    return directory / f"{audio_hash}.wav"


def store(directory: Path, data: bytes) -> str:
    """Keep `data` under its content hash (once: identical audio is one file) and return the hash."""
    audio_hash = content_hash(data)
    target = audio_file(directory, audio_hash)
    if not target.exists():
        write_atomically(target, data)  # Twilio never fetches half a file
    return audio_hash
