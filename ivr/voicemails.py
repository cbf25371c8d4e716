"""留守番電話: the voicemails callers left, to hear and mark as dealt with.

A Twilio recording is played through core.twilio.recordings (fetched with the account's credentials, which the
browser never sees); the simulator's recordings are the app's own files.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import JOIN

from core import audit, clock, phone
from core.config import setting
from core.db import database
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from core.twilio import recordings
from ivr import simulator
from ivr.models import Call, Flow, Voicemail

routes = Routes()
FILTERS = {"open": "未対応", "handled": "対応済み", "all": "すべて"}
SIMULATOR_RECORDING = re.compile(r"/ivr/simulator/recordings/(CA[0-9a-f]{32}\.(?:webm|ogg|wav))")


@routes.route("/voicemails")
@role_required("staff")
def voicemails():
    shown = request.args.get("show", "open")
    shown = shown if shown in FILTERS else "open"
    q = request.args.get("q", "").strip()
    query = (Voicemail.select(Voicemail, Call, Flow).join(Call).join(Flow, JOIN.LEFT_OUTER)
             .order_by(Voicemail.at.desc(), Voicemail.id.desc()))
    if shown == "open":
        query = query.where(Voicemail.handled_at.is_null())
    elif shown == "handled":
        query = query.where(Voicemail.handled_at.is_null(False))
    if q:
        query = query.where(search_clause(q))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    open_count = Voicemail.select().where(Voicemail.handled_at.is_null()).count()
    return render_template("ivr/voicemails.html", page=page, q=q, shown=shown, filters=FILTERS,
                           open_count=open_count)


def search_clause(q: str, name_field=Voicemail.node_name):
    """A typed phone number (whole or in part, full-width too) searches the numbers; other text the names."""
    if phone.looks_like_number(q):
        number = phone.search_term(q)  # 090-3333 finds +8190333…
        return Call.from_number.contains(number) | Call.to_number.contains(number)
    return Flow.name.contains(q) | name_field.contains(q)


@routes.route("/voicemails/<int:voicemail_id>/handled", methods=["POST"])
@role_required("staff")
def voicemail_handled(voicemail_id: int):
    """Mark as dealt with (対応済み), or back to open with undo=1; the list keeps its filter and page."""
    voicemail = Voicemail.get_or_none(Voicemail.id == voicemail_id) or abort(404)
    undo = request.form.get("undo") == "1"
    label = f"留守番電話（{voicemail.at:%Y-%m-%d %H:%M}）"
    with database.atomic():
        # Only a change of state counts: a second click, or a colleague's, keeps who dealt with it first.
        changed = (Voicemail.update(handled_at=None, handled_by="") if undo
                   else Voicemail.update(handled_at=clock.now(), handled_by=current_user.username)).where(
            (Voicemail.id == voicemail.id) & Voicemail.handled_at.is_null(not undo)).execute()
        if changed:
            audit.record("ivr.voicemail.reopened" if undo else "ivr.voicemail.handled",
                         voicemail.call.from_number or "非通知", {"voicemail_id": voicemail.id})
    if changed:
        flash(f"{label}を{'未対応に戻しました' if undo else '対応済みにしました'}。", "success")
    elif undo:
        flash(f"{label}は既に未対応です。", "info")
    else:
        flash(f"{label}は既に対応済みです（{Voicemail.get_by_id(voicemail.id).handled_by} さん）。", "info")
    return redirect(url_for("ivr.voicemails", **back_args(request.form)))


def back_args(form) -> dict:
    return {key: form[key] for key in ("show", "q", "page") if form.get(key)}


@routes.route("/voicemails/<int:voicemail_id>/audio")
@role_required("staff")
def voicemail_audio(voicemail_id: int):
    voicemail = Voicemail.get_or_none(Voicemail.id == voicemail_id) or abort(404)
    return recording_audio(voicemail.url)


def recording_audio(url: str) -> Response:
    """A recording played through the app: the simulator's own file, or Twilio's fetched with the account's
    credentials (the browser never sees them); 502 with the reason when Twilio cannot give it."""
    own = simulator_file_name(url)
    if own:
        return simulator.simulator_recording_file(own)
    try:
        return recordings.stream(url, request.headers.get("Range"))
    except recordings.RecordingUnavailable as exc:
        return Response(str(exc), status=502, mimetype="text/plain")


def simulator_file_name(url: str) -> str | None:
    """The file name when `url` is one of the call simulator's recordings. By path alone: PUBLIC_BASE_URL may
    have changed since (a new tunnel, a new domain), and the name pattern admits nothing but such a file."""
    match = SIMULATOR_RECORDING.fullmatch(urlsplit(url).path)
    return match.group(1) if match else None
