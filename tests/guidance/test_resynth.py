"""Re-synthesis of many voice files at once, with progress stored in the database and polled by the page."""
import datetime as dt
import io
import json
import re
import time

import pytest

from core.models import AuditLog
from guidance import resynth
from guidance.models import ResynthJob, VoiceFile


@pytest.fixture
def files(make_voice_file, staff_client, make_recording):
    a = make_voice_file("挨拶", "こんにちは。")
    b = make_voice_file("終話", "さようなら。")
    staff_client.post("/guidance/voice-files/new", content_type="multipart/form-data", data={
        "name": "録音", "source": "upload", "text": "", "upload": (io.BytesIO(make_recording(seconds=0.5)), "r.wav")})
    return a, b, VoiceFile.get(VoiceFile.name == "録音")


def test_job_changes_speed_of_synthesized_files_and_reports_the_rest(files):
    a, b, recorded = files
    job = resynth.start_job([a.id, b.id, recorded.id], {"speed": 1.4}, "manager1")
    finished = resynth.run_job(job.id)
    progress = resynth.progress(finished)
    assert (progress["done"], progress["failed"], progress["percent"], progress["finished"]) == (2, 1, 100, True)
    assert progress["errors"] == ["「録音」は録音ファイルのため再合成できません。"]
    for before in (a, b):
        after = VoiceFile.get_by_id(before.id)
        assert after.speed == 1.4 and after.audio_hash != before.audio_hash
        assert after.duration_ms < before.duration_ms and after.updated_by == "manager1"
    assert VoiceFile.get_by_id(recorded.id).audio_hash == recorded.audio_hash
    entry = AuditLog.get(AuditLog.action == "voice_file.resynthesized")
    assert entry.actor == "manager1" and '"done": 2' in entry.detail
    started = AuditLog.get(AuditLog.action == "voice_file.resynth_started")
    assert '"files": 3' in started.detail and '"speed": 1.4' in started.detail


def test_engine_that_cannot_read_the_text_leaves_the_file_as_it_was(files):
    a, _, _ = files
    job = resynth.start_job([a.id], {"engine": "pyttsx3"}, "staff1")
    finished = resynth.run_job(job.id)
    assert finished.failed == 1 and "日本語" in json.loads(finished.errors)[0]
    assert VoiceFile.get_by_id(a.id).engine == "openjtalk"


def test_finished_job_is_not_run_twice(files):
    job = resynth.start_job([files[0].id], {"volume": 0.8}, "staff1")
    assert resynth.run_job(job.id) is not None
    assert resynth.run_job(job.id) is None


def test_page_starts_the_job_in_the_background_and_polls_progress(staff_client, files):
    a, b, _ = files
    response = staff_client.post("/guidance/voice-files/resynthesize",
                                 data={"voice_file_ids": [str(a.id), str(b.id)], "speed": "0.8", "engine": "",
                                       "voice": "", "volume": "", "confirmed": "1"})
    assert response.status_code == 302
    page_url = response.headers["Location"]
    assert 'role="progressbar"' in staff_client.get(page_url).get_data(as_text=True)
    deadline = time.monotonic() + 30
    while True:
        progress = staff_client.get(page_url + ".json").get_json()
        if progress["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert (progress["finished"], progress["done"], progress["total"]) == (True, 2, 2)
    assert {VoiceFile.get_by_id(i).speed for i in (a.id, b.id)} == {0.8}


def plan_rows(page: str) -> dict[str, str]:
    """The confirmation table as file name → the rest of its row's text (tags stripped)."""
    body = page[page.index('class="list resynth-plan"'):]
    body = body[:body.index("</table>")]
    rows = [re.sub(r"<[^>]+>", "", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)[1:]]
    return {text.split()[0]: " ".join(text.split()[1:]) for text in rows}


def test_the_bulk_form_first_lists_what_would_change_and_changes_nothing(staff_client, files):
    a, b, recorded = files
    VoiceFile.update(speed=1.2).where(VoiceFile.id == b.id).execute()
    before = {vf.id: (vf.speed, vf.audio_hash) for vf in VoiceFile.select()}
    response = staff_client.post("/guidance/voice-files/resynthesize",
                                 data={"voice_file_ids": [str(a.id), str(b.id), str(recorded.id)], "speed": "1.2"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<strong>1 件</strong>の音声ファイルを作り直します" in page
    rows = plan_rows(page)
    assert "変わります" in rows["挨拶"] and "速さ 1.2" in rows["挨拶"]
    assert "変わりません" in rows["終話"]
    assert "録音ファイルは作り直せません" in rows["録音"]
    assert re.findall(r'name="voice_file_ids" value="(\d+)"', page) == [str(a.id)]  # only what changes
    assert re.search(r'id="resynth-confirm">再合成する（1 件）<', page)
    assert ResynthJob.select().count() == 0
    assert {vf.id: (vf.speed, vf.audio_hash) for vf in VoiceFile.select()} == before


def test_nothing_to_change_offers_no_confirm_button(staff_client, files):
    a, _, _ = files
    response = staff_client.post("/guidance/voice-files/resynthesize", data={"voice_file_ids": [str(a.id)],
                                                                              "speed": "1.0"})
    page = response.get_data(as_text=True)
    assert "再合成するものはありません" in page
    assert 'id="resynth-confirm"' not in page


@pytest.mark.sqlite_only
@pytest.mark.parametrize("data, message", [
    ({"speed": "1.2"}, "再合成する音声ファイルを一覧でチェックしてください。"),
    ({"voice_file_ids": ["1"]}, "変更する項目（エンジン・声・話す速さ・音量）を 1 つ以上指定してください。"),
    ({"voice_file_ids": ["1"], "speed": "9"}, "話す速さは 0.5〜2.0 の範囲で入力してください"),
    ({"voice_file_ids": ["1"], "engine": "openjtalk", "voice": "en"}, "声「en」はこのエンジンにはありません。"),
])
def test_bad_bulk_requests_are_refused(staff_client, data, message):
    response = staff_client.post("/guidance/voice-files/resynthesize", data=data, follow_redirects=True)
    assert message in response.get_data(as_text=True)
    assert ResynthJob.select().count() == 0


def test_a_job_whose_worker_died_is_resumed_where_it_stopped(files, clock):
    a, b, _ = files
    job = resynth.start_job([a.id, b.id], {"speed": 1.2}, "staff1")
    ResynthJob.update(status="running", done=1, heartbeat_at=clock.now()).where(ResynthJob.id == job.id).execute()
    assert resynth.resume_stalled_jobs() == 0  # its worker may still be alive
    clock.advance(minutes=3)
    assert resynth.resume_stalled_jobs() == 1
    finished = ResynthJob.get_by_id(job.id)
    assert (finished.status, finished.done, finished.failed) == ("done", 2, 0)
    assert VoiceFile.get_by_id(a.id).speed == 1.0  # counted as done before the worker died
    assert VoiceFile.get_by_id(b.id).speed == 1.2


def test_claimable_decision():
    now = dt.datetime(2026, 1, 5, 10, 0)
    job = ResynthJob(status="running", heartbeat_at=now - dt.timedelta(seconds=30))
    assert resynth.claimable(ResynthJob(status="queued"), now)
    assert not resynth.claimable(job, now)
    assert resynth.claimable(job, now + dt.timedelta(minutes=5))
    assert not resynth.claimable(ResynthJob(status="done"), now)
