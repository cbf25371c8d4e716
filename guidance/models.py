"""Voice files (音声ファイル), original guidance (オリジナルガイダンス) and bulk re-synthesis jobs."""
from __future__ import annotations

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from core import clock
from core.db import BaseModel

# Kinds of original guidance, in the order the editor lists them.
KINDS: dict[str, str] = {
    "pb": "振り分けガイダンス【PB】",
    "greeting": "オープニングガイダンス",
    "timeout": "入力タイムアウト時ガイダンス",
    "mis_entry": "入力ミス時ガイダンス",
    "number_entry": "携帯番号入力ガイダンス",
    "sms_sent": "SMS送信完了ガイダンス",
    "sms_unavailable": "SMS送信不可ガイダンス",
    "out_of_hours": "時間外ガイダンス",
    "closing": "終話ガイダンス",
    "other": "その他ガイダンス",
}

SOURCE_TTS = "tts"
SOURCE_UPLOAD = "upload"
SOURCES = {SOURCE_TTS: "音声合成", SOURCE_UPLOAD: "録音ファイル"}

# The audit log in words (core.audit.describe, from guidance.init_app).
AUDIT_ACTIONS = {
    "voice_file.created": "音声ファイルを作成",
    "voice_file.updated": "音声ファイルを変更",
    "voice_file.deleted": "音声ファイルを削除",
    "voice_file.resynth_started": "音声ファイルの一括再合成を開始",
    "voice_file.resynthesized": "音声ファイルの一括再合成を終了",
    "guidance.created": "オリジナルガイダンスを登録",
    "guidance.updated": "オリジナルガイダンスを変更",
    "guidance.deleted": "オリジナルガイダンスを削除",
}
AUDIT_FIELDS = {
    "source": "作成方法", "text": "ガイダンス内容", "audio": "音声", "duration_ms": "長さ", "engine": "音声合成エンジン",
    "voice": "声", "speed": "話す速さ", "volume": "音量", "filename": "録音ファイル名", "kind": "種類",
    "synthesized": "音声合成ガイダンス", "voice_files": "音声ファイル", "files": "ファイル数", "done": "作り直した数",
    "failed": "失敗した数", "errors": "エラー", "problem": "問題",
}


class VoiceFile(BaseModel):
    """One piece of telephone audio: synthesized from text, or an uploaded recording."""

    id = AutoField()
    name = CharField(max_length=100, unique=True)
    source = CharField(max_length=16, default=SOURCE_TTS)
    text = TextField(default="")
    engine = CharField(max_length=16, default="")
    voice = CharField(max_length=64, default="")
    speed = FloatField(default=1.0)
    volume = FloatField(default=1.0)
    # Hash of everything synthesis depends on: identical inputs never synthesize twice.
    synth_key = CharField(max_length=64, default="", index=True)
    # Content hash of the stored WAV (its file name); null while there is no audio yet.
    audio_hash = CharField(max_length=64, null=True, index=True)
    duration_ms = IntegerField(default=0)
    original_filename = CharField(max_length=200, default="")
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)

    @property
    def is_tts(self) -> bool:
        return self.source == SOURCE_TTS

    @property
    def duration_seconds(self) -> float:
        return round(self.duration_ms / 1000, 1)

    @classmethod
    def search(cls, q: str = ""):
        query = cls.select().order_by(cls.name)
        if q:
            query = query.where(cls.name.contains(q) | cls.text.contains(q))
        return query


class Guidance(BaseModel):
    """An original guidance: a kind, a name and voice files played in order."""

    id = AutoField()
    name = CharField(max_length=100, unique=True)
    kind = CharField(max_length=32, index=True)
    # 音声合成ガイダンス: built only from synthesized voice files.
    synthesized = BooleanField(default=True)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def ordered_items(self):
        return (GuidanceItem.select(GuidanceItem, VoiceFile).join(VoiceFile)
                .where(GuidanceItem.guidance == self.id).order_by(GuidanceItem.position))

    @classmethod
    def search(cls, q: str = "", kind: str = ""):
        query = cls.select().order_by(cls.kind, cls.name)
        if q:
            query = query.where(cls.name.contains(q))
        if kind:
            query = query.where(cls.kind == kind)
        return query


class GuidanceItem(BaseModel):
    id = AutoField()
    guidance = ForeignKeyField(Guidance, backref="items", on_delete="CASCADE")
    voice_file = ForeignKeyField(VoiceFile, backref="uses")
    position = IntegerField()

    class Meta:
        indexes = ((("guidance", "position"), True),)


class ResynthJob(BaseModel):
    """Re-synthesis of many voice files at once (engine/voice/speed change), with progress for the page."""

    id = AutoField()
    status = CharField(max_length=16, default="queued")  # queued, running, done
    voice_file_ids = TextField(default="[]")  # JSON list
    engine = CharField(max_length=16, default="")  # "" keeps each file's value
    voice = CharField(max_length=64, default="")
    speed = FloatField(null=True)
    volume = FloatField(null=True)
    total = IntegerField(default=0)
    done = IntegerField(default=0)
    failed = IntegerField(default=0)
    errors = TextField(default="[]")  # JSON list of Japanese messages
    created_by = CharField(max_length=64, default="")
    created_at = DateTimeField(default=clock.now)
    heartbeat_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
