"""Reading and checking the voice file and guidance forms. Pure: no Flask, no database.

Each parser returns what it understood plus a list of Japanese messages naming the field and the problem;
checks that need the database (name already used, voice file exists) are done by guidance.service.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.inputs import int_or
from guidance.models import KINDS, SOURCE_TTS, SOURCE_UPLOAD
from guidance.text import is_japanese

NAME_MAX = 100
SPEED_RANGE = (0.5, 2.0)
VOLUME_RANGE = (0.0, 2.0)
MAX_ITEMS = 20


@dataclass
class VoiceFileInput:
    name: str = ""
    source: str = SOURCE_TTS
    text: str = ""
    engine: str = ""
    voice: str = ""
    speed: float = 1.0
    volume: float = 1.0


@dataclass
class SynthesisDefaults:
    engine: str
    voices: dict[str, str]  # engine → default voice
    speed: float
    volume: float
    max_text_length: int


@dataclass
class GuidanceInput:
    name: str = ""
    kind: str = ""
    synthesized: bool = False
    voice_file_ids: list[int] = field(default_factory=list)


def _number(raw: str | None, default: float, label: str, bounds: tuple[float, float], errors: list[str]) -> float:
    if raw is None or str(raw).strip() == "":
        return default
    low, high = bounds
    try:
        value = float(str(raw).strip())
    except ValueError:
        errors.append(f"{label}は {low}〜{high} の数値で入力してください。")
        return default
    if not low <= value <= high:
        errors.append(f"{label}は {low}〜{high} の範囲で入力してください（入力値: {value}）。")
        return default
    return round(value, 2)


def text_length_error(text: str, max_length: int, label: str = "ガイダンス内容") -> str | None:
    if len(text) > max_length:
        return f"{label}は {max_length} 文字以内にしてください（現在 {len(text)} 文字）。"
    return None


def parse_voice_file_form(form: Mapping[str, str], defaults: SynthesisDefaults,
                          engine_voices: Mapping[str, Mapping[str, str]]) -> tuple[VoiceFileInput, list[str]]:
    """The voice file form → VoiceFileInput and the problems found (empty list when fine)."""
    errors: list[str] = []
    name = (form.get("name") or "").strip()
    source = form.get("source") or SOURCE_TTS
    if not name:
        errors.append("作成ファイル名を入力してください。")
    elif len(name) > NAME_MAX:
        errors.append(f"作成ファイル名は {NAME_MAX} 文字以内にしてください（現在 {len(name)} 文字）。")
    if source not in (SOURCE_TTS, SOURCE_UPLOAD):
        errors.append("作成方法を「音声合成」か「録音ファイル」から選んでください。")
        source = SOURCE_TTS
    if source == SOURCE_UPLOAD:
        text = (form.get("text") or "").strip()
        too_long = text_length_error(text, defaults.max_text_length)
        return VoiceFileInput(name=name, source=source, text=text), errors + ([too_long] if too_long else [])
    data, speech_errors = parse_speech(form, defaults, engine_voices)
    data.name = name
    return data, errors + speech_errors


def parse_speech(form: Mapping[str, str], defaults: SynthesisDefaults,
                 engine_voices: Mapping[str, Mapping[str, str]]) -> tuple[VoiceFileInput, list[str]]:
    """The text and how to speak it (engine, voice, speed, volume): what synthesis needs, saved or heard."""
    errors: list[str] = []
    data = VoiceFileInput(source=SOURCE_TTS, text=(form.get("text") or "").strip(),
                          engine=form.get("engine") or defaults.engine)
    too_long = text_length_error(data.text, defaults.max_text_length)
    if too_long:
        errors.append(too_long)
    if not data.text:
        errors.append("ガイダンス内容を入力してください。")
    if data.engine not in engine_voices:
        errors.append("音声合成エンジンを選んでください。")
        data.engine = defaults.engine
    voices = engine_voices.get(data.engine, {})
    data.voice = form.get("voice") or defaults.voices.get(data.engine, "")
    if data.voice not in voices:
        # A voice of the other engine (the engine was switched in the form) falls back to this engine's default.
        data.voice = defaults.voices.get(data.engine, "")
    data.speed = _number(form.get("speed"), defaults.speed, "話す速さ", SPEED_RANGE, errors)
    data.volume = _number(form.get("volume"), defaults.volume, "音量", VOLUME_RANGE, errors)
    if data.engine == "pyttsx3" and is_japanese(data.text):
        errors.append("日本語以外（espeak-ng）の音声合成は日本語（かな・漢字）を読めません。"
                      "日本語の内容には「日本語（Open JTalk）」を選んでください。")
    return data, errors


def parse_bulk_change(form: Mapping[str, str], engine_voices: Mapping[str, Mapping[str, str]]
                      ) -> tuple[dict, list[str]]:
    """The bulk re-synthesis form: only the fields filled in change; at least one must be."""
    errors: list[str] = []
    change: dict = {}
    engine = form.get("engine") or ""
    if engine:
        if engine not in engine_voices:
            errors.append("音声合成エンジンを選んでください。")
        else:
            change["engine"] = engine
    voice = form.get("voice") or ""
    if voice:
        if engine and engine in engine_voices and voice not in engine_voices[engine]:
            errors.append(f"声「{voice}」はこのエンジンにはありません。")
        else:
            change["voice"] = voice
    for key, label, bounds in (("speed", "話す速さ", SPEED_RANGE), ("volume", "音量", VOLUME_RANGE)):
        raw = form.get(key) or ""
        if raw.strip():
            before = len(errors)
            value = _number(raw, 0.0, label, bounds, errors)
            if len(errors) == before:
                change[key] = value
    if not change and not errors:
        errors.append("変更する項目（エンジン・声・話す速さ・音量）を 1 つ以上指定してください。")
    return change, errors


def parse_ids(values: list[str]) -> list[int]:
    """The voice file ids a form chose, in order; anything that is not an id is left out."""
    ids = (int_or(value, 0) for value in values)
    return [number for number in ids if number > 0]


def parse_guidance_form(form: Mapping[str, str], voice_file_ids: list[str]) -> tuple[GuidanceInput, list[str]]:
    """The original guidance form → GuidanceInput (voice files in the order given) and the problems found."""
    errors: list[str] = []
    data = GuidanceInput(
        name=(form.get("name") or "").strip(),
        kind=form.get("kind") or "",
        synthesized=bool(form.get("synthesized")),
        voice_file_ids=parse_ids(voice_file_ids),
    )
    if data.kind not in KINDS:
        errors.append("オリジナルガイダンスの種類を選んでください。")
    if not data.name:
        errors.append("オリジナルガイダンス名を入力してください。")
    elif len(data.name) > NAME_MAX:
        errors.append(f"オリジナルガイダンス名は {NAME_MAX} 文字以内にしてください（現在 {len(data.name)} 文字）。")
    if not data.voice_file_ids:
        errors.append("再生する音声ファイルを 1 つ以上選んでください。")
    elif len(data.voice_file_ids) > MAX_ITEMS:
        errors.append(f"音声ファイルは {MAX_ITEMS} 個までにしてください（現在 {len(data.voice_file_ids)} 個）。")
    return data, errors
