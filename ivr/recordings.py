"""通話録音: the recorded transfers, listed with their calls and played through the app as voicemails are (a Twilio
recording fetched with the account's credentials, which the browser never sees; the simulator's own files)."""
from __future__ import annotations

from flask import abort, render_template, request
from peewee import JOIN

from core.config import setting
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from ivr.models import Call, CallRecording, Flow
from ivr.voicemails import recording_audio, search_clause

routes = Routes()


@routes.route("/recordings")
@role_required("staff")
def call_recordings():
    """Who may see it: staff and above, as voicemails (the callers' voices and numbers)."""
    q = request.args.get("q", "").strip()
    query = (CallRecording.select(CallRecording, Call, Flow).join(Call).join(Flow, JOIN.LEFT_OUTER)
             .order_by(CallRecording.at.desc(), CallRecording.id.desc()))
    if q:
        query = query.where(search_clause(q, Call.last_node_name))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    return render_template("ivr/recordings.html", page=page, q=q)


@routes.route("/recordings/<int:recording_id>/audio")
@role_required("staff")
def call_recording_audio(recording_id: int):
    recording = CallRecording.get_or_none(CallRecording.id == recording_id) or abort(404)
    return recording_audio(recording.url)
