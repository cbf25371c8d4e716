"""Audio files that no voice file uses any more are deleted, a grace period after they were first found unused.

Re-synthesizing or re-recording a voice file leaves its old WAV behind (files are named by their content, so
nothing overwrites them). Deleting it at once would be wrong: a call that was handed TwiML a moment ago may
still fetch it, and a file just written by another process is not in the database yet. So the first sweep
that finds a file unused only notes when (in a small JSON file beside the audio); a later sweep deletes it if
it is still unused after the grace period, and forgets it if something uses it again. Only the scheduler's
process runs the sweep.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from core import clock
from core.files import write_atomically
from guidance.audio import is_audio_hash
from guidance.models import VoiceFile
from guidance.service import audio_directory

log = logging.getLogger("guidance.cleanup")
UNUSED_NOTE = ".unused.json"
GRACE = dt.timedelta(days=1)
SWEEP_TIME = "03:30"


def sweep_unused_audio(now: dt.datetime | None = None) -> dict[str, int]:
    """Note newly unused audio files, delete those unused for GRACE; returns the counts."""
    now = now or clock.now()
    directory = audio_directory()
    if not directory.is_dir():
        return {"deleted": 0, "waiting": 0}
    files = {path.stem: path for path in directory.glob("*.wav") if is_audio_hash(path.stem)}
    used = {audio_hash for (audio_hash,) in
            VoiceFile.select(VoiceFile.audio_hash).where(VoiceFile.audio_hash.is_null(False)).tuples()}
    noted = read_note(directory)
    waiting = {audio_hash: noted.get(audio_hash, now.isoformat()) for audio_hash in files if audio_hash not in used}
    deleted = 0
    for audio_hash, since in list(waiting.items()):
        if now - dt.datetime.fromisoformat(since) >= GRACE:
            files[audio_hash].unlink(missing_ok=True)
            del waiting[audio_hash]
            deleted += 1
    write_note(directory, waiting)
    if deleted or waiting:
        log.info("unused audio: %d deleted, %d waiting for the grace period", deleted, len(waiting))
    return {"deleted": deleted, "waiting": len(waiting)}


def read_note(directory: Path) -> dict[str, str]:
    try:
        noted = json.loads((directory / UNUSED_NOTE).read_text())
    except (OSError, ValueError):  # none yet, or damaged: files are noted again and wait a full grace period
        return {}
    return {key: value for key, value in noted.items() if isinstance(value, str)} if isinstance(noted, dict) else {}


def write_note(directory: Path, waiting: dict[str, str]) -> None:
    write_atomically(directory / UNUSED_NOTE, json.dumps(waiting, indent=0, sort_keys=True).encode())
