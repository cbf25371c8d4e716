"""Unused audio files are deleted a day after a sweep first finds them unused, never while a voice file uses them."""
import logging

from guidance.audio import audio_file
from guidance.cleanup import UNUSED_NOTE, sweep_unused_audio
from guidance.forms import VoiceFileInput
from guidance.service import audio_directory, delete_voice_file, save_voice_file


def edit_text(voice_file, text):
    data = VoiceFileInput(name=voice_file.name, source="tts", text=text, engine=voice_file.engine,
                          voice=voice_file.voice, speed=voice_file.speed, volume=voice_file.volume)
    return save_voice_file(voice_file, data)


def test_old_audio_goes_a_day_after_it_was_first_found_unused(clock, make_voice_file, caplog):
    clock.set("2026-03-02 03:30")
    kept = make_voice_file("残す", "ご利用ありがとうございます。")
    edited = make_voice_file("直す", "営業時間は九時からです。")
    removed = make_voice_file("消す", "本日は休業です。")
    old_hash, removed_hash = edited.audio_hash, removed.audio_hash
    edited = edit_text(edited, "営業時間は十時からです。")
    delete_voice_file(removed)
    assert sweep_unused_audio() == {"deleted": 0, "waiting": 2}
    assert (audio_directory() / UNUSED_NOTE).exists()

    clock.advance(hours=23, minutes=59)  # not yet a full day: a call may still be playing the old file
    assert sweep_unused_audio() == {"deleted": 0, "waiting": 2}
    assert audio_file(audio_directory(), old_hash).exists()
    clock.advance(minutes=1)
    with caplog.at_level(logging.INFO):
        assert sweep_unused_audio() == {"deleted": 2, "waiting": 0}
    assert "2 deleted" in caplog.text
    assert not audio_file(audio_directory(), old_hash).exists()
    assert not audio_file(audio_directory(), removed_hash).exists()
    for used in (kept, edited):
        assert audio_file(audio_directory(), used.audio_hash).exists()


def test_a_file_used_again_is_forgotten_and_waits_anew_if_it_is_dropped_again(clock, make_voice_file):
    clock.set("2026-03-02 03:30")
    voice_file = make_voice_file("戻す", "少々お待ちください。")
    first = voice_file.audio_hash
    voice_file = edit_text(voice_file, "しばらくお待ちください。")
    assert sweep_unused_audio() == {"deleted": 0, "waiting": 1}
    clock.advance(hours=12)
    voice_file = edit_text(voice_file, "少々お待ちください。")  # back to the first text: the same file again
    assert voice_file.audio_hash == first
    assert sweep_unused_audio() == {"deleted": 0, "waiting": 1}  # now the second one waits
    clock.advance(hours=12)
    second_waiting = sweep_unused_audio()
    assert second_waiting == {"deleted": 0, "waiting": 1}
    assert audio_file(audio_directory(), first).exists()
    clock.advance(days=1)
    assert sweep_unused_audio() == {"deleted": 1, "waiting": 0}
    assert audio_file(audio_directory(), first).exists()


def test_a_damaged_note_only_restarts_the_wait(clock, make_voice_file):
    clock.set("2026-03-02 03:30")
    voice_file = make_voice_file("壊れ", "ご確認ください。")
    old = voice_file.audio_hash
    edit_text(voice_file, "ご確認をお願いします。")
    (audio_directory() / UNUSED_NOTE).write_text("{not json")
    assert sweep_unused_audio() == {"deleted": 0, "waiting": 1}
    clock.advance(days=1)
    assert sweep_unused_audio() == {"deleted": 1, "waiting": 0}
    assert not audio_file(audio_directory(), old).exists()


def test_the_sweep_is_a_daily_job_of_the_scheduler(app):
    from core.scheduler import JobRegistry
    from guidance import register_jobs

    registry = JobRegistry()
    register_jobs(registry, app)
    job = registry.jobs["guidance.sweep_unused_audio"]
    assert job.func is sweep_unused_audio
    assert "hour='3'" in str(job.trigger) and "minute='30'" in str(job.trigger)
