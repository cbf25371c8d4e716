"""Re-synthesis of many voice files at once (an engine, voice or speed change) with progress in the database.

The page first shows what would change (`plan`: which files, from what to what) and starts a job only when
that is confirmed, since the audio callers hear changes at once; a background thread works through the
files, writing progress after each one, and the page polls it. A job whose worker died (process restart) is
picked up again by the scheduler job `guidance.resume_resynth`, continuing after the last file it finished.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from dataclasses import dataclass

from core import audit, clock
from core.db import database, for_update_skip_locked
from guidance.forms import VoiceFileInput
from guidance.models import SOURCE_TTS, ResynthJob, VoiceFile
from guidance.service import GuidanceError, synthesis_defaults, synthesize_audio

log = logging.getLogger(__name__)
STALE_AFTER = dt.timedelta(minutes=2)


def start_job(voice_file_ids: list[int], change: dict, actor: str) -> ResynthJob:
    """Record a job for the given files and the fields to change (engine, voice, speed, volume)."""
    with database.atomic():
        job = ResynthJob.create(
            voice_file_ids=json.dumps(voice_file_ids), total=len(voice_file_ids), created_by=actor,
            engine=change.get("engine", ""), voice=change.get("voice", ""), speed=change.get("speed"),
            volume=change.get("volume"), created_at=clock.now(),
        )
        audit.record("voice_file.resynth_started", f"job {job.id}", {"files": len(voice_file_ids), **change})
    return job


def run_in_background(app, job_id: int) -> threading.Thread:
    """Work through the job in a daemon thread of this process (the page polls the progress)."""

    def work():
        with app.app_context(), database.connection_context():
            try:
                run_job(job_id)
            except Exception:  # keep the web process alive; the scheduler resumes the job later
                log.exception("re-synthesis job %s stopped", job_id)

    thread = threading.Thread(target=work, name=f"resynth-{job_id}", daemon=True)
    thread.start()
    return thread


def claim(job_id: int) -> ResynthJob | None:
    """Take the job if it is queued or its worker stopped sending heartbeats."""
    with database.atomic():
        job = for_update_skip_locked(ResynthJob.select().where(ResynthJob.id == job_id)).first()
        if job is None or not claimable(job, clock.now()):
            return None
        ResynthJob.update(status="running", heartbeat_at=clock.now()).where(ResynthJob.id == job_id).execute()
    return ResynthJob.get_by_id(job_id)


def claimable(job: ResynthJob, now: dt.datetime) -> bool:
    if job.status == "queued":
        return True
    return job.status == "running" and (job.heartbeat_at is None or now - job.heartbeat_at > STALE_AFTER)


@dataclass(frozen=True)
class Change:
    """The fields a bulk re-synthesis sets; "" or None keeps each file's own (a ResynthJob has these too)."""

    engine: str = ""
    voice: str = ""
    speed: float | None = None
    volume: float | None = None


@dataclass(frozen=True)
class PlannedFile:
    """One chosen file on the confirmation page: its inputs now and after, or why it is left as it is."""

    voice_file: VoiceFile
    before: VoiceFileInput | None
    after: VoiceFileInput | None

    @property
    def changes(self) -> bool:
        return self.after is not None and self.after != self.before


def plan(voice_file_ids: list[int], change: dict) -> list[PlannedFile]:
    """What re-synthesizing these files with `change` would do, file by file, changing nothing (the page
    that asks before live audio is rewritten). Recorded files get no inputs; files now gone are left out."""
    wanted = Change(**change)
    files = {vf.id: vf for vf in VoiceFile.select().where(VoiceFile.id.in_(voice_file_ids))}
    planned = []
    for vf_id in dict.fromkeys(voice_file_ids):
        vf = files.get(vf_id)
        if vf is None:
            continue
        if vf.source != SOURCE_TTS:
            planned.append(PlannedFile(vf, None, None))
            continue
        planned.append(PlannedFile(vf, current_input(vf), changed_input(vf, wanted)))
    return planned


def current_input(vf: VoiceFile) -> VoiceFileInput:
    return VoiceFileInput(name=vf.name, source=SOURCE_TTS, text=vf.text, engine=vf.engine, voice=vf.voice,
                          speed=vf.speed, volume=vf.volume)


def changed_input(vf: VoiceFile, job: ResynthJob | Change) -> VoiceFileInput:
    """The voice file's synthesis inputs with the job's changes applied."""
    defaults = synthesis_defaults()
    engine = job.engine or vf.engine or defaults.engine
    voice = job.voice or (vf.voice if engine == vf.engine else "") or defaults.voices.get(engine, "")
    return VoiceFileInput(name=vf.name, source=SOURCE_TTS, text=vf.text, engine=engine, voice=voice,
                          speed=job.speed if job.speed is not None else vf.speed,
                          volume=job.volume if job.volume is not None else vf.volume)


def resynthesize(vf: VoiceFile, job: ResynthJob) -> None:
    data = changed_input(vf, job)
    made = synthesize_audio(data)
    VoiceFile.update(engine=data.engine, voice=data.voice, speed=data.speed, volume=data.volume,
                     synth_key=made.synth_key, audio_hash=made.audio_hash, duration_ms=made.duration_ms,
                     updated_at=clock.now(), updated_by=job.created_by).where(VoiceFile.id == vf.id).execute()


def run_job(job_id: int) -> ResynthJob | None:
    """Process the remaining files of a job; returns the finished job (None if someone else has it)."""
    job = claim(job_id)
    if job is None:
        return None
    ids = json.loads(job.voice_file_ids)
    errors = json.loads(job.errors)
    for vf_id in ids[job.done + job.failed:]:
        vf = VoiceFile.get_or_none(VoiceFile.id == vf_id)
        problem = _problem_with(vf)
        if problem is None:
            try:
                resynthesize(vf, job)
            except GuidanceError as exc:
                problem = f"「{vf.name}」: {' '.join(exc.errors)}"
        if problem:
            job.failed += 1
            errors.append(problem)
        else:
            job.done += 1
        ResynthJob.update(done=job.done, failed=job.failed, errors=json.dumps(errors, ensure_ascii=False),
                          heartbeat_at=clock.now()).where(ResynthJob.id == job.id).execute()
    ResynthJob.update(status="done", finished_at=clock.now()).where(ResynthJob.id == job.id).execute()
    audit.record("voice_file.resynthesized", f"job {job.id}",
                 {"done": job.done, "failed": job.failed, "errors": errors[:20]}, actor=job.created_by or "system")
    return ResynthJob.get_by_id(job.id)


def _problem_with(vf: VoiceFile | None) -> str | None:
    if vf is None:
        return "削除された音声ファイルはスキップしました。"
    if vf.source != SOURCE_TTS:
        return f"「{vf.name}」は録音ファイルのため再合成できません。"
    return None


def resume_stalled_jobs() -> int:
    """Scheduler job: finish jobs whose worker died; returns how many were resumed."""
    now = clock.now()
    resumed = 0
    for job in ResynthJob.select().where(ResynthJob.status.in_(("queued", "running"))).order_by(ResynthJob.id):
        orphaned = job.status == "running" or now - job.created_at > STALE_AFTER
        if claimable(job, now) and orphaned and run_job(job.id) is not None:
            resumed += 1
    return resumed


def progress(job: ResynthJob) -> dict:
    """What the progress page shows, as JSON."""
    finished = job.done + job.failed
    return {"id": job.id, "status": job.status, "total": job.total, "done": job.done, "failed": job.failed,
            "percent": 100 if job.total == 0 else int(finished * 100 / job.total),
            "errors": json.loads(job.errors), "finished": job.status == "done"}
