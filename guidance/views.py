"""Pages of 07 ガイダンス (音声ファイル作成, オリジナルガイダンス登録) and the public audio endpoint for Twilio."""
from __future__ import annotations

import os

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from core.config import setting
from core.inputs import json_request
from core.pagination import paginate
from core.security import api_error, role_required
from guidance import audio, resynth, service
from guidance.forms import (
    parse_bulk_change,
    parse_guidance_form,
    parse_ids,
    parse_speech,
    parse_voice_file_form,
)
from guidance.models import KINDS, SOURCE_TTS, SOURCES, Guidance, ResynthJob, VoiceFile
from guidance.public import audio_path
from guidance.tts import ENGINE_LABELS

bp = Blueprint("guidance", __name__, template_folder="templates")  # static files: web.assets
AUDIO_MAX_AGE = 365 * 24 * 3600  # content-addressed: a URL's audio never changes


# --- audio for Twilio and the browser (public: /audio/ needs no login) ----------------------------------------
@bp.route("/audio/<audio_hash>.wav", methods=["GET", "HEAD"])
def audio_file(audio_hash: str):
    if not audio.is_audio_hash(audio_hash):
        abort(404)
    etag = f'"{audio_hash}"'
    if audio_hash in request.if_none_match:
        # Revalidation (Twilio, browsers): answered without touching the disk.
        return Response(status=304, headers={"ETag": etag, "Cache-Control": cache_control()})
    path = audio.audio_file(service.audio_directory(), audio_hash)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="audio/wav", etag=audio_hash, conditional=True, max_age=AUDIO_MAX_AGE)
    response.headers["Cache-Control"] = cache_control()
    return response


def cache_control() -> str:
    return f"public, max-age={AUDIO_MAX_AGE}, immutable"


# --- voice files (音声ファイル作成) ---------------------------------------------------------------------------
@bp.route("/guidance/voice-files")
@role_required("staff")
def voice_files():
    q = request.args.get("q", "").strip()
    page = paginate(VoiceFile.search(q), request.args.get("page", 1), setting("web.page_size"))
    users = service.voice_file_usage([vf.id for vf in page.items])
    return render_template("guidance/voice_files.html", page=page, q=q, users=users, audio_path=audio_path,
                           engine_labels=ENGINE_LABELS, engine_voices=service.engine_voices())


def voice_file_form_page(voice_file: VoiceFile | None, form: dict | None, errors: list[str], status: int = 200):
    defaults = service.synthesis_defaults()
    if form is None:
        form = voice_file_values(voice_file, defaults)
    used_by = service.voice_file_usage([voice_file.id])[voice_file.id] if voice_file else []
    return render_template("guidance/voice_file_form.html", voice_file=voice_file, form=form, errors=errors,
                           sources=SOURCES, engine_labels=ENGINE_LABELS, engine_voices=service.engine_voices(),
                           max_text_length=defaults.max_text_length, max_upload_mb=setting("guidance.max_upload_mb"),
                           audio_path=audio_path, used_by=used_by), status


def voice_file_values(voice_file: VoiceFile | None, defaults) -> dict:
    if voice_file is None:
        return {"source": SOURCE_TTS, "engine": defaults.engine, "voice": defaults.voices[defaults.engine],
                "speed": defaults.speed, "volume": defaults.volume, "name": "", "text": ""}
    return {"name": voice_file.name, "source": voice_file.source, "text": voice_file.text,
            "engine": voice_file.engine or defaults.engine,
            "voice": voice_file.voice or defaults.voices[voice_file.engine or defaults.engine],
            "speed": voice_file.speed, "volume": voice_file.volume}


def uploaded_bytes() -> tuple[bytes | None, str]:
    """The uploaded recording; GuidanceError (naming its size) when it is over the limit."""
    upload = request.files.get("upload")
    if upload is None or not upload.filename:
        return None, ""
    size = upload.stream.seek(0, os.SEEK_END)
    upload.stream.seek(0)
    service.check_upload_size(size)
    return upload.stream.read(), upload.filename


def save_voice_file_from_request(voice_file: VoiceFile | None):
    form = request.form.to_dict()
    data, errors = parse_voice_file_form(form, service.synthesis_defaults(), service.engine_voices())
    if errors:
        return voice_file_form_page(voice_file, form, errors, 400)
    try:
        raw, filename = uploaded_bytes() if data.source != SOURCE_TTS else (None, "")
        saved = service.save_voice_file(voice_file, data, raw, filename)
    except service.GuidanceError as exc:
        return voice_file_form_page(voice_file, form, exc.errors, 400)
    flash(f"音声ファイル「{saved.name}」を保存しました（{saved.duration_seconds} 秒）。", "success")
    return redirect(url_for("guidance.edit_voice_file", voice_file_id=saved.id))


@bp.route("/guidance/voice-files/new", methods=["GET", "POST"])
@role_required("staff")
def new_voice_file():
    if request.method == "POST":
        return save_voice_file_from_request(None)
    return voice_file_form_page(None, None, [])


@bp.route("/guidance/voice-files/<int:voice_file_id>", methods=["GET", "POST"])
@role_required("staff")
def edit_voice_file(voice_file_id: int):
    voice_file = VoiceFile.get_or_none(VoiceFile.id == voice_file_id) or abort(404)
    if request.method == "POST":
        return save_voice_file_from_request(voice_file)
    return voice_file_form_page(voice_file, None, [])


@bp.route("/guidance/voice-files/preview", methods=["POST"])
@role_required("staff")
@json_request
def preview_voice(body: dict):
    """試聴: the audio of the text as typed (not yet saved) with the chosen engine, voice, speed and volume.
    Nothing is saved; the page plays the answer in its <audio> element."""
    form = {key: str(body.get(key) or "") for key in ("text", "engine", "voice", "speed", "volume")}
    data, errors = parse_speech(form, service.synthesis_defaults(), service.engine_voices())
    if errors:
        return api_error("invalid", " ".join(errors))
    try:
        wav = service.preview_wav(data)
    except service.GuidanceError as exc:
        return api_error("synthesis", " ".join(exc.errors), 422)
    return Response(wav, mimetype="audio/wav")


@bp.route("/guidance/voice-files/<int:voice_file_id>/delete", methods=["POST"])
@role_required("staff")
def delete_voice_file(voice_file_id: int):
    voice_file = VoiceFile.get_or_none(VoiceFile.id == voice_file_id) or abort(404)
    try:
        service.delete_voice_file(voice_file)
    except service.GuidanceError as exc:
        for message in exc.errors:
            flash(message, "error")
        return redirect(url_for("guidance.voice_files"))
    flash(f"音声ファイル「{voice_file.name}」を削除しました。", "success")
    return redirect(url_for("guidance.voice_files"))


# --- bulk re-synthesis with progress ------------------------------------------------------------------------
@bp.route("/guidance/voice-files/resynthesize", methods=["POST"])
@role_required("staff")
def start_resynth():
    """The list's bulk form: first a page listing what would change; the job starts only from its confirm
    button (`confirmed`), since callers hear the new audio at once."""
    ids = parse_ids(request.form.getlist("voice_file_ids"))
    change, errors = parse_bulk_change(request.form.to_dict(), service.engine_voices())
    if not ids:
        errors.insert(0, "再合成する音声ファイルを一覧でチェックしてください。")
    if errors:
        for message in errors:
            flash(message, "error")
        return redirect(url_for("guidance.voice_files", q=request.form.get("q", "")))
    if not request.form.get("confirmed"):
        planned = resynth.plan(ids, change)
        usage = service.voice_file_usage([row.voice_file.id for row in planned])
        return render_template("guidance/resynth_confirm.html", planned=planned, change=change, usage=usage,
                               q=request.form.get("q", ""), engine_labels=ENGINE_LABELS,
                               engine_voices=service.engine_voices())
    job = resynth.start_job(ids, change, current_user.username)
    resynth.run_in_background(current_app._get_current_object(), job.id)
    return redirect(url_for("guidance.resynth_page", job_id=job.id))


@bp.route("/guidance/resynthesize/<int:job_id>")
@role_required("staff")
def resynth_page(job_id: int):
    job = ResynthJob.get_or_none(ResynthJob.id == job_id) or abort(404)
    return render_template("guidance/resynth.html", job=job, progress=resynth.progress(job))


@bp.route("/guidance/resynthesize/<int:job_id>.json")
@role_required("staff")
def resynth_progress(job_id: int):
    job = ResynthJob.get_or_none(ResynthJob.id == job_id) or abort(404)
    return jsonify(resynth.progress(job))


# --- original guidance (オリジナルガイダンス登録) -----------------------------------------------------------
@bp.route("/guidance/guidances")
@role_required("staff")
def guidances():
    q, kind = request.args.get("q", "").strip(), request.args.get("kind", "")
    page = paginate(Guidance.search(q, kind if kind in KINDS else ""), request.args.get("page", 1),
                    setting("web.page_size"))
    items = {g.id: list(g.ordered_items()) for g in page.items}
    previews = {gid: [audio_path(i.voice_file.audio_hash) for i in rows if i.voice_file.audio_hash]
                for gid, rows in items.items()}
    return render_template("guidance/guidances.html", page=page, q=q, kind=kind, kinds=KINDS, items=items,
                           previews=previews)


def guidance_form_page(guidance: Guidance | None, form: dict | None, selected: list[int], errors: list[str],
                       status: int = 200):
    if form is None:
        form = ({"name": guidance.name, "kind": guidance.kind, "synthesized": guidance.synthesized}
                if guidance else {"name": "", "kind": "pb", "synthesized": True})
    return render_template("guidance/guidance_form.html", guidance=guidance, form=form, selected=selected,
                           errors=errors, kinds=KINDS, voice_files=list(VoiceFile.search()),
                           audio_path=audio_path), status


def save_guidance_from_request(guidance: Guidance | None):
    form = request.form.to_dict()
    chosen = request.form.getlist("voice_file_ids")
    data, errors = parse_guidance_form(form, chosen)
    if not errors:
        try:
            saved = service.save_guidance(guidance, data)
        except service.GuidanceError as exc:
            errors = exc.errors
    if errors:
        return guidance_form_page(guidance, form, data.voice_file_ids, errors, 400)
    flash(f"オリジナルガイダンス「{saved.name}」を保存しました。", "success")
    return redirect(url_for("guidance.guidances"))


@bp.route("/guidance/guidances/new", methods=["GET", "POST"])
@role_required("staff")
def new_guidance():
    if request.method == "POST":
        return save_guidance_from_request(None)
    return guidance_form_page(None, None, [], [])


@bp.route("/guidance/guidances/<int:guidance_id>", methods=["GET", "POST"])
@role_required("staff")
def edit_guidance(guidance_id: int):
    guidance = Guidance.get_or_none(Guidance.id == guidance_id) or abort(404)
    if request.method == "POST":
        return save_guidance_from_request(guidance)
    selected = [item.voice_file_id for item in guidance.ordered_items()]
    return guidance_form_page(guidance, None, selected, [])


@bp.route("/guidance/guidances/<int:guidance_id>/delete", methods=["POST"])
@role_required("staff")
def delete_guidance(guidance_id: int):
    guidance = Guidance.get_or_none(Guidance.id == guidance_id) or abort(404)
    try:
        service.delete_guidance(guidance)
    except service.GuidanceError as exc:
        for message in exc.errors:
            flash(message, "error")
        return redirect(url_for("guidance.guidances"))
    flash(f"オリジナルガイダンス「{guidance.name}」を削除しました。", "success")
    return redirect(url_for("guidance.guidances"))
