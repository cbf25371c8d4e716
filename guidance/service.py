"""Saving voice files and guidance: synthesis on save, content-addressed audio, audit, deletion guards.

Views and the public functions call these; every function runs inside an app context with a database
connection. Failures the user can fix raise GuidanceError carrying Japanese messages, and nothing is saved.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from peewee import IntegrityError

from core import audit, clock
from core.config import setting
from core.db import database
from guidance import audio
from guidance.forms import GuidanceInput, SynthesisDefaults, VoiceFileInput
from guidance.models import KINDS, SOURCE_TTS, SOURCE_UPLOAD, Guidance, GuidanceItem, VoiceFile
from guidance.tts import ENGINES, EngineUnavailable, SynthesisError, get_engine
from guidance.usage import guidance_users

log = logging.getLogger(__name__)


class GuidanceError(Exception):
    """Problems the user can fix; `errors` are Japanese sentences naming field and problem."""

    def __init__(self, errors: list[str] | str):
        self.errors = [errors] if isinstance(errors, str) else list(errors)
        super().__init__(" ".join(self.errors))


@dataclass
class Audio:
    audio_hash: str
    duration_ms: int
    synth_key: str = ""


# --- settings -----------------------------------------------------------------------------------------------
def synthesis_defaults() -> SynthesisDefaults:
    return SynthesisDefaults(
        engine=setting("guidance.default_engine"),
        voices={"openjtalk": ENGINES["openjtalk"].default_voice(), "pyttsx3": setting("guidance.pyttsx3_voice")},
        speed=setting("guidance.default_speed"),
        volume=setting("guidance.default_volume"),
        max_text_length=setting("guidance.max_text_length"),
    )


def engine_voices() -> dict[str, dict[str, str]]:
    """Voices per engine; an engine that is not installed offers its default voice so the form still works
    (saving then explains what to install)."""
    defaults = synthesis_defaults().voices
    out = {}
    for name, engine in ENGINES.items():
        try:
            out[name] = engine.voices() or {defaults[name]: defaults[name]}
        except EngineUnavailable:
            out[name] = {defaults[name]: defaults[name]}
    return out


def audio_directory():
    return audio.audio_dir(setting("guidance.audio_dir"))


def max_upload_bytes() -> int:
    return setting("guidance.max_upload_mb") * 1024 * 1024


# --- audio --------------------------------------------------------------------------------------------------
def synthesis_key(data: VoiceFileInput) -> str:
    """Everything the audio depends on; equal keys give equal audio, so it is made once."""
    engine = get_engine(data.engine)
    parts = [data.engine, data.voice, f"{data.speed:.2f}", f"{data.volume:.2f}", engine.prepare_text(data.text),
             setting("guidance.audio_encoding")]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


def existing_audio(key: str) -> Audio | None:
    """Audio already made from the same inputs (by any voice file) whose file is still on disk."""
    row = (VoiceFile.select(VoiceFile.audio_hash, VoiceFile.duration_ms)
           .where(VoiceFile.synth_key == key, VoiceFile.audio_hash.is_null(False)).first())
    if row and audio.audio_file(audio_directory(), row.audio_hash).exists():
        return Audio(row.audio_hash, row.duration_ms, key)
    return None


def synthesize_audio(data: VoiceFileInput) -> Audio:
    """Telephone WAV for a text voice file, reusing identical earlier audio. Raises GuidanceError."""
    key = checked_synthesis_key(data)
    found = existing_audio(key)
    if found:
        return found
    wav, duration_ms = synthesized_wav(data)
    return Audio(audio.store(audio_directory(), wav), duration_ms, key)


def preview_wav(data: VoiceFileInput) -> bytes:
    """The telephone audio a text would get, saving nothing (試聴): a saved voice file's own audio when one was
    made from the same inputs, else synthesized now and kept in memory only. Raises GuidanceError."""
    found = existing_audio(checked_synthesis_key(data))
    if found:
        try:
            return audio.audio_file(audio_directory(), found.audio_hash).read_bytes()
        except OSError:  # swept away in between: make it again
            pass
    return synthesized_wav(data)[0]


def checked_synthesis_key(data: VoiceFileInput) -> str:
    try:
        return synthesis_key(data)
    except SynthesisError as exc:  # an engine that does not exist
        raise GuidanceError(str(exc)) from None


def synthesized_wav(data: VoiceFileInput) -> tuple[bytes, int]:
    """(WAV bytes, milliseconds) of the text in telephone quality; nothing is stored. Raises GuidanceError."""
    try:
        engine = get_engine(data.engine)
        speech = engine.synthesize(engine.prepare_text(data.text), data.voice, data.speed,
                                   setting("guidance.openjtalk_dict_dir"))
    except (EngineUnavailable, SynthesisError) as exc:
        raise GuidanceError(str(exc)) from None
    return audio.telephone_wav(speech, data.volume, setting("guidance.audio_encoding"))


def check_upload_size(size: int) -> None:
    if size > max_upload_bytes():
        raise GuidanceError(f"アップロードするファイルが大きすぎます（{size / 1024 / 1024:.1f} MB）。"
                            f"{setting('guidance.max_upload_mb')} MB 以下のファイルを選択してください。")


def upload_audio(raw: bytes) -> Audio:
    """Telephone WAV from an uploaded recording. Raises GuidanceError for oversized or non-audio files."""
    check_upload_size(len(raw))
    try:
        speech = audio.decode_upload(raw)
    except audio.NotAudio as exc:
        raise GuidanceError(str(exc)) from None
    wav, duration_ms = audio.telephone_wav(speech, 1.0, setting("guidance.audio_encoding"))
    return Audio(audio.store(audio_directory(), wav), duration_ms)


# --- voice files --------------------------------------------------------------------------------------------
def name_taken(model, name: str, own_id: int | None) -> bool:
    query = model.select().where(model.name == name)
    if own_id is not None:
        query = query.where(model.id != own_id)
    return query.exists()


def save_voice_file(current: VoiceFile | None, data: VoiceFileInput, upload: bytes | None = None,
                    upload_name: str = "") -> VoiceFile:
    """Create (current=None) or update a voice file; audio is made before anything is written."""
    if name_taken(VoiceFile, data.name, current.id if current else None):
        raise GuidanceError(f"作成ファイル名「{data.name}」は既に使われています。別の名前にしてください。")
    fields = {"name": data.name, "source": data.source, "text": data.text}
    if data.source == SOURCE_TTS:
        made = synthesize_audio(data)
        fields.update(engine=data.engine, voice=data.voice, speed=data.speed, volume=data.volume,
                      synth_key=made.synth_key, original_filename="")
    elif upload:
        made = upload_audio(upload)
        fields.update(engine="", voice="", synth_key="", original_filename=upload_name[:200])
    elif current is not None and current.source == SOURCE_UPLOAD and current.audio_hash:
        made = Audio(current.audio_hash, current.duration_ms)  # text or name edited, recording kept
    else:
        raise GuidanceError("アップロードする録音ファイル（WAV または MP3）を選択してください。")
    fields.update(audio_hash=made.audio_hash, duration_ms=made.duration_ms, updated_at=clock.now(),
                  updated_by=_actor())
    return _write_voice_file(current, fields)


def _write_voice_file(current: VoiceFile | None, fields: dict) -> VoiceFile:
    try:
        with database.atomic():
            if current is None:
                saved = VoiceFile.create(**fields, created_at=clock.now())
                action = "voice_file.created"
            else:
                VoiceFile.update(**fields).where(VoiceFile.id == current.id).execute()
                saved = VoiceFile.get_by_id(current.id)
                action = "voice_file.updated"
            audit.record(action, saved.name, _voice_file_detail(saved))
    except IntegrityError:
        raise GuidanceError(f"作成ファイル名「{fields['name']}」は既に使われています。別の名前にしてください。") from None
    return saved


def _voice_file_detail(vf: VoiceFile) -> dict:
    detail = {"id": vf.id, "source": vf.source, "text": vf.text, "audio": vf.audio_hash,
              "duration_ms": vf.duration_ms}
    if vf.source == SOURCE_TTS:
        detail.update(engine=vf.engine, voice=vf.voice, speed=vf.speed, volume=vf.volume)
    else:
        detail["filename"] = vf.original_filename
    return detail


def voice_file_users(vf: VoiceFile) -> list[str]:
    """Names of the original guidance that play this voice file."""
    rows = (Guidance.select(Guidance.name).join(GuidanceItem).where(GuidanceItem.voice_file == vf.id)
            .distinct().order_by(Guidance.name))
    return [g.name for g in rows]


def voice_file_usage(voice_file_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """For a page of voice files: id → [(guidance name, kind label)] of the guidance playing it (one query)."""
    usage: dict[int, list[tuple[str, str]]] = {i: [] for i in voice_file_ids}
    if not voice_file_ids:
        return usage
    rows = (GuidanceItem.select(GuidanceItem.voice_file, Guidance.name, Guidance.kind).join(Guidance)
            .where(GuidanceItem.voice_file.in_(voice_file_ids)).distinct().order_by(Guidance.name).tuples())
    for vf_id, name, kind in rows:
        usage[vf_id].append((name, KINDS.get(kind, kind)))
    return usage


def delete_voice_file(vf: VoiceFile) -> None:
    users = voice_file_users(vf)
    if users:
        names = "、".join(f"「{n}」" for n in users)
        raise GuidanceError(f"音声ファイル「{vf.name}」はオリジナルガイダンス {names} で使われているため削除できません。"
                            "先にガイダンスから外してください。")
    with database.atomic():
        VoiceFile.delete().where(VoiceFile.id == vf.id).execute()
        audit.record("voice_file.deleted", vf.name, {"id": vf.id, "audio": vf.audio_hash})


# --- original guidance --------------------------------------------------------------------------------------
def check_guidance(current: Guidance | None, data: GuidanceInput) -> list[VoiceFile]:
    """The voice files of the guidance in order, after the checks that need the database."""
    errors = []
    if name_taken(Guidance, data.name, current.id if current else None):
        errors.append(f"オリジナルガイダンス名「{data.name}」は既に使われています。別の名前にしてください。")
    by_id = {vf.id: vf for vf in VoiceFile.select().where(VoiceFile.id.in_(data.voice_file_ids))}
    missing = [i for i in data.voice_file_ids if i not in by_id]
    if missing:
        errors.append("選んだ音声ファイルの一部が見つかりません（削除された可能性があります）。選び直してください。")
    files = [by_id[i] for i in data.voice_file_ids if i in by_id]
    if data.synthesized:
        recorded = sorted({vf.name for vf in files if vf.source != SOURCE_TTS})
        if recorded:
            errors.append("音声合成ガイダンスには音声合成の音声ファイルだけを使えます。録音ファイル "
                          + "、".join(f"「{n}」" for n in recorded) + " を外すか、チェックを外してください。")
    if errors:
        raise GuidanceError(errors)
    return files


def save_guidance(current: Guidance | None, data: GuidanceInput) -> Guidance:
    files = check_guidance(current, data)
    fields = {"name": data.name, "kind": data.kind, "synthesized": data.synthesized,
              "updated_at": clock.now(), "updated_by": _actor()}
    try:
        with database.atomic():
            if current is None:
                saved = Guidance.create(**fields, created_at=clock.now())
                action = "guidance.created"
            else:
                Guidance.update(**fields).where(Guidance.id == current.id).execute()
                GuidanceItem.delete().where(GuidanceItem.guidance == current.id).execute()
                saved = Guidance.get_by_id(current.id)
                action = "guidance.updated"
            GuidanceItem.insert_many(
                [{"guidance": saved.id, "voice_file": vf.id, "position": n} for n, vf in enumerate(files, 1)]
            ).execute()
            audit.record(action, saved.name, {"id": saved.id, "kind": saved.kind, "synthesized": saved.synthesized,
                                              "voice_files": [vf.name for vf in files]})
    except IntegrityError:
        raise GuidanceError(f"オリジナルガイダンス名「{data.name}」は既に使われています。別の名前にしてください。") from None
    return saved


def delete_guidance(guidance: Guidance) -> None:
    users = guidance_users(guidance.id)
    if users:
        raise GuidanceError(f"オリジナルガイダンス「{guidance.name}」は次の設定で使われているため削除できません: "
                            + "、".join(users))
    with database.atomic():
        GuidanceItem.delete().where(GuidanceItem.guidance == guidance.id).execute()
        Guidance.delete().where(Guidance.id == guidance.id).execute()
        audit.record("guidance.deleted", guidance.name, {"id": guidance.id, "kind": guidance.kind})


# --- ready-made guidance ------------------------------------------------------------------------------------
def ensure_guidance(name: str, kind: str, text: str) -> int:
    """Idempotent by name: the existing guidance's id, or a new one with one synthesized voice file."""
    if kind not in KINDS:
        raise ValueError(f"unknown guidance kind {kind!r}; one of {sorted(KINDS)}")
    found = Guidance.get_or_none(Guidance.name == name)
    if found:
        return found.id
    voice_file = _ensure_voice_file(name, text)
    try:
        with database.atomic():
            created = Guidance.create(name=name, kind=kind, synthesized=True, created_at=clock.now(),
                                      updated_at=clock.now(), updated_by="system")
            GuidanceItem.create(guidance=created.id, voice_file=voice_file.id, position=1)
            audit.record("guidance.created", name, {"id": created.id, "kind": kind, "voice_files": [voice_file.name]},
                         actor="system")
    except IntegrityError:  # another process made it at the same moment
        return Guidance.get(Guidance.name == name).id
    return created.id


def _ensure_voice_file(name: str, text: str) -> VoiceFile:
    existing = VoiceFile.get_or_none(VoiceFile.name == name)
    if existing and existing.text == text:
        return existing
    file_name = name if existing is None else _free_voice_file_name(name)
    defaults = synthesis_defaults()
    data = VoiceFileInput(name=file_name, source=SOURCE_TTS, text=text, engine=defaults.engine,
                          voice=defaults.voices[defaults.engine], speed=defaults.speed, volume=defaults.volume)
    try:
        return save_voice_file(None, data)
    except GuidanceError as exc:
        # No engine on this machine: keep the text so calls still hear it through <Say>.
        log.warning("ready-made guidance %s saved without audio: %s", name, exc)
        with database.atomic():
            vf = VoiceFile.create(name=file_name, source=SOURCE_TTS, text=text, engine=data.engine, voice=data.voice,
                                  speed=data.speed, volume=data.volume, created_at=clock.now(),
                                  updated_at=clock.now(), updated_by="system")
            audit.record("voice_file.created", vf.name, {"id": vf.id, "text": text, "audio": None,
                                                         "problem": " ".join(exc.errors)}, actor="system")
        return vf


def _free_voice_file_name(base: str) -> str:
    n = 2
    while VoiceFile.select().where(VoiceFile.name == f"{base} ({n})").exists():
        n += 1
    return f"{base} ({n})"


def _actor() -> str:
    from flask import g, has_request_context

    return (getattr(g, "audit_actor", "") if has_request_context() else "system") or ""
