"""Guidance: speech synthesis, voice files (音声ファイル作成), original guidance (オリジナルガイダンス登録) and the
telephone audio served to Twilio under /audio/. Other packages use guidance.public only."""
from __future__ import annotations

# The two ready-made messages of seed 004 ("ガイダンス例").
READY_MADE = (
    ("入力タイムアウト時", "timeout", "入力が確認できません。案内をお聞きいただきもう一度入力してください。"),
    ("入力ミス時", "mis_entry", "入力が間違っています。案内をお聞きいただきもう一度入力してください。"),
)


def init_app(app) -> None:
    """The guidance pages, /audio/ public (Twilio fetches the guidance audio without a login), and the
    voice-file form's upload limit."""
    from core import audit
    from core.extensions import register_public_paths
    from core.uploads import MIB, UploadRoute, register_upload_route
    from guidance.models import AUDIT_ACTIONS, AUDIT_FIELDS, KINDS, SOURCES
    from guidance.tts import ENGINE_LABELS, VOICE_LABELS
    from guidance.views import bp

    app.register_blueprint(bp)
    register_public_paths(app, "/audio/")
    # Sent without the page's script (which refuses a file over the limit before sending), a recording
    # somewhat too large still reaches the form, which says how large it is and keeps what was typed.
    register_upload_route(app, UploadRoute("voice_file", r"/guidance/voice-files/(new|[0-9]+)",
                                           lambda s: s["guidance.max_upload_mb"] * MIB, headroom=60 * MIB))
    audit.describe(app, AUDIT_ACTIONS, AUDIT_FIELDS, {
        "source": SOURCES, "kind": KINDS, "engine": ENGINE_LABELS, "voice": VOICE_LABELS,
        "audio": audit.present_or_none, "duration_ms": audit.seconds_from_ms})


def register_jobs(registry, app) -> None:
    from guidance.cleanup import SWEEP_TIME, sweep_unused_audio
    from guidance.resynth import resume_stalled_jobs

    registry.every("guidance.resume_resynth", 60, resume_stalled_jobs)
    registry.daily("guidance.sweep_unused_audio", SWEEP_TIME, sweep_unused_audio,
                   description="使われなくなった音声ファイルの削除（1 日の猶予後）")


def seed_defaults(app) -> None:
    """Make the ready-made timeout and mis-entry guidance once (by name; a renamed or edited one is left alone)."""
    from guidance.service import ensure_guidance

    for name, kind, text in READY_MADE:
        ensure_guidance(name, kind, text)
