"""What other packages (ivr) may call. Everything here reads or writes through guidance's own models.

    playlist(guidance_id) -> list[PlayItem]        absolute audio URLs in order, with their lengths (database only)
    guidance_names(ids) -> {id: name}              the names of guidance (missing ids are left out)
    guidance_choices(kind=None) -> [(id, label)]   for editor dropdowns
    ensure_guidance(name, kind, text) -> id        idempotent by name; synthesizes now
    register_usage_finder(fn)                      fn(guidance_id) -> [description]; blocks deletion
"""
from __future__ import annotations

from typing import NamedTuple

from guidance.models import KINDS, Guidance, GuidanceItem, VoiceFile
from guidance.usage import UsageFinder, guidance_users, register_usage_finder

__all__ = ["PlayItem", "UsageFinder", "audio_path", "ensure_guidance", "guidance_choices", "guidance_users",
           "guidance_names", "playlist", "register_usage_finder"]


class PlayItem(NamedTuple):
    url: str | None  # absolute URL of the 8 kHz WAV; None when no audio exists (IVR then uses <Say>)
    text: str
    seconds: float = 0.0  # the audio's length (0 without audio)


def audio_path(audio_hash: str) -> str:
    """The stable public path of one stored WAV (served by guidance.audio)."""
    return f"/audio/{audio_hash}.wav"


def playlist(guidance_id: int) -> list[PlayItem]:
    """The voice files of a guidance in order; unknown guidance → []."""
    from core.twilio import external_url

    rows = (GuidanceItem.select(GuidanceItem, VoiceFile).join(VoiceFile)
            .where(GuidanceItem.guidance == guidance_id).order_by(GuidanceItem.position))
    return [PlayItem(external_url(audio_path(row.voice_file.audio_hash)) if row.voice_file.audio_hash else None,
                     row.voice_file.text, row.voice_file.duration_ms / 1000 if row.voice_file.audio_hash else 0.0)
            for row in rows]


def guidance_names(ids) -> dict[int, str]:
    """{id: name} of the guidance asked for that exist."""
    wanted = sorted({int(i) for i in ids if i})
    if not wanted:
        return {}
    return dict(Guidance.select(Guidance.id, Guidance.name).where(Guidance.id.in_(wanted)).tuples())


def guidance_choices(kind: str | None = None) -> list[tuple[int, str]]:
    """(id, "name（kind label）") of every guidance, optionally of one kind, ordered by kind then name."""
    query = Guidance.search(kind=kind or "")
    return [(g.id, f"{g.name}（{KINDS.get(g.kind, g.kind)}）") for g in query]


def ensure_guidance(name: str, kind: str, text: str) -> int:
    """The id of the guidance called `name`; made now (voice file synthesized on the spot) if missing."""
    from guidance.service import ensure_guidance as ensure

    return ensure(name, kind, text)

