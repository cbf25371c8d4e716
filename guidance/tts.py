"""Speech engines behind one small interface: Open JTalk (Japanese) and pyttsx3/espeak-ng (other languages).

    engine = get_engine("openjtalk")
    engine.check()                                   # EngineUnavailable names the Debian package to install
    speech = engine.synthesize(text, voice, speed)   # Speech(samples in -1..1, rate)

Both engines keep one native instance per process, so calls are serialised with a lock.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import io
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from guidance.text import is_japanese, normalize_for_speech, normalize_width

log = logging.getLogger(__name__)
OPENJTALK_PACKAGE = "open-jtalk-mecab-naist-jdic"
ESPEAK_PACKAGE = "espeak-ng"
HTS_VOICE_DIRS = (Path("/usr/share/hts-voice"),)


class EngineUnavailable(Exception):
    """The engine or its data is not installed; the message (Japanese) says what to install."""


class SynthesisError(Exception):
    """The text could not be turned into speech; the message is Japanese and meant for the user."""


@dataclass
class Speech:
    samples: np.ndarray  # float64, mono, -1.0 .. 1.0
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate if self.rate else 0.0


# How staff see Open JTalk's voices (the files are named after the HTS voice: mei_normal.htsvoice, …).
VOICE_LABELS = {
    "mei_normal": "女性（メイ・ふつう）",
    "mei_happy": "女性（メイ・明るい）",
    "mei_bashful": "女性（メイ・控えめ）",
    "mei_angry": "女性（メイ・怒り）",
    "mei_sad": "女性（メイ・悲しい）",
    "takumi_normal": "男性（タクミ・ふつう）",
    "takumi_happy": "男性（タクミ・明るい）",
    "takumi_angry": "男性（タクミ・怒り）",
    "takumi_sad": "男性（タクミ・悲しい）",
    "nitech_jp_atr503_m001": "男性（標準）",
}


class OpenJTalkEngine:
    name = "openjtalk"
    label = "日本語（Open JTalk）"

    def __init__(self):
        self._lock = threading.Lock()
        self._frontends: dict[str, object] = {}
        self._voices: dict[str, object] = {}

    def prepare_text(self, text: str) -> str:
        return normalize_for_speech(text)

    def check(self, dict_dir: str) -> None:
        if not (Path(dict_dir) / "sys.dic").is_file():
            raise EngineUnavailable(
                f"Open JTalk の辞書が見つかりません（{dict_dir}）。Debian パッケージ {OPENJTALK_PACKAGE} を"
                f"インストールしてください（apt-get install {OPENJTALK_PACKAGE}）。"
            )
        _import_pyopenjtalk(dict_dir)

    def voices(self) -> dict[str, str]:
        """Voice name → its label in words: pyopenjtalk's own voice plus any Debian hts-voice package."""
        return {name: VOICE_LABELS.get(name, name) for name in self._voice_paths()}

    def _voice_paths(self) -> dict[str, str]:
        found = {}
        package_dir = Path(_pyopenjtalk_package_dir()) / "htsvoice"
        for directory in (package_dir, *HTS_VOICE_DIRS):
            for path in sorted(directory.glob("**/*.htsvoice")) if directory.is_dir() else []:
                if _is_hts_voice(path):
                    found.setdefault(path.stem, str(path))
        return found

    def default_voice(self) -> str:
        return "mei_normal"

    def synthesize(self, text: str, voice: str, speed: float, dict_dir: str) -> Speech:
        self.check(dict_dir)
        voices = self._voice_paths()
        if voice not in voices:
            raise SynthesisError(f"Open JTalk の声「{voice}」が見つかりません。")
        with self._lock:
            frontend = self._frontend(dict_dir)
            labels = frontend.make_label(frontend.run_frontend(text))
            if not any("-" in label and "sil" not in label.split("-")[1].split("+")[0] for label in labels):
                raise SynthesisError("読み上げられる文字がありません。ガイダンス内容を確認してください。")
            engine = self._voice(voices[voice])
            engine.set_speed(float(speed))
            samples = np.asarray(engine.synthesize(labels), dtype=np.float64)
            rate = int(engine.get_sampling_frequency())
        return Speech(samples=samples / 32768.0, rate=rate)

    def reading(self, text: str, dict_dir: str) -> str:
        """The katakana reading Open JTalk gives the (normalised) text, e.g. オデンワアリガトーゴザイマス."""
        self.check(dict_dir)
        with self._lock:
            return self._frontend(dict_dir).g2p(text, kana=True)

    def _frontend(self, dict_dir: str):
        # Our own OpenJTalk instance on the configured dictionary: pyopenjtalk's global one would
        # download a dictionary when its directory is missing.
        if dict_dir not in self._frontends:
            from pyopenjtalk.openjtalk import OpenJTalk

            self._frontends[dict_dir] = OpenJTalk(dn_mecab=dict_dir.encode("utf-8"))
        return self._frontends[dict_dir]

    def _voice(self, path: str):
        if path not in self._voices:
            from pyopenjtalk.htsengine import HTSEngine

            if not self._voices:
                atexit.register(self._release)
            self._voices[path] = HTSEngine(path.encode("utf-8"))
        return self._voices[path]

    def _release(self) -> None:
        # Free the HTS engines while the interpreter is intact (see Pyttsx3Engine._release).
        self._voices.clear()
        gc.collect()


def _is_hts_voice(path: Path) -> bool:
    """pyopenjtalk ships its licence as LICENSE_mei_normal.htsvoice: a real voice starts with [GLOBAL]."""
    with open(path, "rb") as handle:
        return handle.read(8) == b"[GLOBAL]"


def _import_pyopenjtalk(dict_dir: str):
    """Import pyopenjtalk with OPEN_JTALK_DICT_DIR set first (it reads the variable at import)."""
    os.environ.setdefault("OPEN_JTALK_DICT_DIR", dict_dir)
    try:
        import pyopenjtalk
    except ImportError as exc:
        raise EngineUnavailable(
            f"Python パッケージ pyopenjtalk を読み込めません（{exc}）。./dev を実行して依存パッケージを"
            f"インストールし、Debian パッケージ {OPENJTALK_PACKAGE} も入れてください。"
        ) from None
    return pyopenjtalk


def _pyopenjtalk_package_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("pyopenjtalk")
    return str(Path(spec.origin).parent) if spec and spec.origin else ""


class Pyttsx3Engine:
    name = "pyttsx3"
    label = "日本語以外（espeak-ng）"
    NORMAL_RATE = 200  # words per minute espeak-ng uses at speed 1.0
    ATTEMPTS = 3  # an empty result is pyttsx3's event race (see _save), not the text: try again

    def __init__(self):
        self._lock = threading.Lock()
        self._engine = None
        self._voice_catalogue: dict[str, tuple[str, str]] | None = None

    def prepare_text(self, text: str) -> str:
        return normalize_width(text)

    def check(self, dict_dir: str = "") -> None:
        with self._lock:
            self._driver()

    def voices(self) -> dict[str, str]:
        """Voice name ("en", "en-us", "fr-fr", …: the espeak-ng voice file) → its description."""
        return {name: label for name, (_identifier, label) in self._catalogue().items()}

    def _catalogue(self) -> dict[str, tuple[str, str]]:
        if self._voice_catalogue is None:
            with self._lock:
                catalogue = {}
                for v in self._driver().getProperty("voices"):
                    identifier = str(v.id)
                    catalogue[identifier.rsplit("/", 1)[-1]] = (identifier, f"{v.name}")
                self._voice_catalogue = dict(sorted(catalogue.items()))
        return self._voice_catalogue

    def default_voice(self) -> str:
        return "en"

    def synthesize(self, text: str, voice: str, speed: float, dict_dir: str = "") -> Speech:
        if is_japanese(text):
            raise SynthesisError("日本語以外（espeak-ng）の音声合成は日本語（かな・漢字）を読めません。「日本語（Open JTalk）」を選んでください。")
        if not text.strip():
            raise SynthesisError("読み上げられる文字がありません。ガイダンス内容を確認してください。")
        import soundfile

        catalogue = self._catalogue()
        if voice not in catalogue:
            # espeak-ng silently keeps its previous voice for an unknown name.
            raise SynthesisError(f"espeak-ng の声「{voice}」が見つかりません。")
        with self._lock, tempfile.TemporaryDirectory(prefix="tts-") as tmp:
            driver = self._driver()
            driver.setProperty("voice", catalogue[voice][0])
            driver.setProperty("rate", round(self.NORMAL_RATE * float(speed)))
            driver.setProperty("volume", 1.0)
            path = Path(tmp) / "speech.wav"
            for attempt in range(1, self.ATTEMPTS + 1):
                self._save(driver, text, path)
                if path.exists() and path.stat().st_size > 44:
                    break
                log.warning("espeak-ng gave no audio (attempt %s of %s)", attempt, self.ATTEMPTS)
            else:
                raise SynthesisError("espeak-ng が音声を作れませんでした。ガイダンス内容を確認してください。")
            samples, rate = soundfile.read(str(path), dtype="float64", always_2d=False)
        if samples.ndim > 1:
            samples = samples.mean(axis=1)
        return Speech(samples=samples, rate=int(rate))

    @staticmethod
    def _save(driver, text: str, path: Path) -> None:
        # pyttsx3 runs espeak-ng asynchronously and ends an utterance at the first "message terminated"
        # event it sees; a late one left over from the previous utterance makes it write an empty file.
        # Waiting until espeak-ng is idle first drains it (seen under load: about 1 call in 150 without this).
        _espeak_synchronize()
        # pyttsx3 prints "Audio saved to …" on stdout; keep server logs clean.
        with contextlib.redirect_stdout(io.StringIO()):
            driver.save_to_file(text, str(path))
            driver.runAndWait()

    def _driver(self):
        if self._engine is None:
            try:
                import pyttsx3

                self._engine = pyttsx3.init("espeak")
                atexit.register(self._release)
            except (OSError, RuntimeError, ImportError, AttributeError) as exc:  # no libespeak-ng, no driver
                raise EngineUnavailable(
                    f"pyttsx3 の音声エンジン espeak-ng を使えません（{exc}）。Debian パッケージ {ESPEAK_PACKAGE} を"
                    f"インストールしてください（apt-get install {ESPEAK_PACKAGE}）。"
                ) from None
        return self._engine

    def _release(self) -> None:
        # Destroy espeak-ng while the interpreter is intact; left to the final shutdown, pyttsx3's
        # destructor runs after sys.stdout is gone and the interpreter reports an error.
        self._engine = None
        gc.collect()


ENGINES = {"openjtalk": OpenJTalkEngine(), "pyttsx3": Pyttsx3Engine()}
ENGINE_LABELS = {name: engine.label for name, engine in ENGINES.items()}


def _espeak_synchronize() -> None:
    """Wait until espeak-ng has finished everything queued (pyttsx3 exposes no public call for it)."""
    from pyttsx3.drivers import _espeak

    _espeak.Synchronize()


def get_engine(name: str):
    try:
        return ENGINES[name]
    except KeyError:
        raise SynthesisError(f"音声合成エンジン「{name}」はありません。") from None
