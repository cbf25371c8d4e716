"""Reading audio back in tests: a WAV header's format, any WAV's samples, and loudness (the app only writes WAV)."""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np

from guidance.audio import FORMAT_MULAW, FORMAT_PCM
from guidance.tts import Speech


@dataclass(frozen=True)
class WavInfo:
    format_tag: int
    channels: int
    rate: int
    bits: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0

    @property
    def encoding(self) -> str:
        return {FORMAT_PCM: "pcm16", FORMAT_MULAW: "ulaw"}.get(self.format_tag, f"format {self.format_tag}")


def read_wav_info(data: bytes) -> WavInfo:
    """Parse a WAV header (the fmt and data chunks); ValueError when it is not one."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    offset, fmt, data_size = 12, None, None
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], struct.unpack("<I", data[offset + 4:offset + 8])[0]
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[offset + 8:offset + 24])
        elif chunk == b"data":
            data_size = min(size, len(data) - offset - 8)
        offset += 8 + size + (size % 2)
    if fmt is None or data_size is None:
        raise ValueError("WAV without fmt or data chunk")
    format_tag, channels, rate, _byte_rate, block_align, bits = fmt
    return WavInfo(format_tag, channels, rate, bits, data_size // max(block_align, 1))


def decode_wav(data: bytes) -> Speech:
    """Samples of any WAV (PCM or μ-law) as floats."""
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data), dtype="float64", always_2d=False)
    return Speech(samples=samples, rate=int(rate))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples.astype(np.float64))))) if len(samples) else 0.0
