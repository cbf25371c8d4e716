"""Browser call simulator (R-08): the page's script plays Twilio's part against the very same webhooks.

The browser never signs anything. It asks these logged-in endpoints to make a request; they build
the form Twilio would post, sign it with the app's auth token for PUBLIC_BASE_URL + path (exactly
as Twilio signs), pass it to the webhook through the app itself, and hand the TwiML back for the
page to interpret. Only the app's own /twilio/voice URLs can be reached this way.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import abort, current_app, jsonify, render_template, request, send_file, url_for
from flask_login import current_user
from werkzeug.test import Client

from core import phone
from core.config import ROOT, setting
from core.files import write_atomically
from core.inputs import json_request
from core.routes import Routes
from core.security import api_error, role_required
from core.twilio import external_url, inbound_call_params, public_base_url, signature_for
from guidance import public as guidance_public
from ivr.calls import TRIAL_PARAM
from ivr.messages import EVENT_LABELS, OUTCOME_LABELS
from ivr.models import Call, CallEvent, Flow, FlowVersion
from ivr.spec import guidance_fields
from ivr.verbs import MAX_REPORTED_SECONDS
from ivr.versions import trial_version
from ivr.webhooks import VOICE_PATH
from sms.public import messages_for_call

routes = Routes()
SIMULATED_ACCOUNT = "AC" + "5" * 32
# What a page may add to a request: the fields Twilio itself reports for Gather, Dial and Record.
FORWARDED_FIELDS = ("Digits", "DialCallStatus", "DialCallDuration", "RecordingUrl", "RecordingDuration",
                    "RecordingStatus", "RecordingChannels", "SpeechResult", "Confidence")
MAX_RECORDING_BYTES = 10 * 1024 * 1024  # 10 minutes of Opus speech is about 1 MB
RECORDING_TYPES = {"webm": "audio/webm", "ogg": "audio/ogg", "wav": "audio/wav"}
RECORDING_NAME = re.compile(r"CA[0-9a-f]{32}\.(webm|ogg|wav)")
DIALLED_NUMBER = re.compile(r"<Dial\b[^>]*>([^<]+)</Dial>")


def twilio_params(call: Call, **extra) -> dict:
    return inbound_call_params(call.call_sid, call.from_number, call.to_number, SIMULATED_ACCOUNT, **extra)


def post_signed(path: str, params: dict):
    """POST to a webhook of this app as Twilio would: form-encoded, X-Twilio-Signature for the public URL."""
    signature = signature_for(public_base_url() + path, params)
    client = Client(current_app._get_current_object())
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def webhook_path(url: str) -> str | None:
    """The path of one of our own voice webhook URLs (absolute or not), else None."""
    base = public_base_url()
    path = url[len(base):] if url.startswith(base) else url
    if path.startswith(VOICE_PATH + "/") and "://" not in path and ".." not in path:
        return path
    return None


def captions(call: Call) -> dict[str, str]:
    """Audio URL → its text, for every guidance of the call's flow (the page shows what is playing)."""
    if call.flow_id is None:
        return {}
    version = FlowVersion.get_or_none(FlowVersion.id == call.flow_version_id) if call.flow_version_id else None
    flow = Flow.get_or_none(Flow.id == call.flow_id)
    if flow is None:
        return {}
    out = {}
    for node in (version or flow).spec().nodes.values():
        for _, gid in guidance_fields(node):
            if gid:
                out.update({item.url: item.text for item in guidance_public.playlist(gid) if item.url})
    return out


def shown_numbers(twiml: str) -> dict[str, str]:
    """Each number a <Dial> calls → how staff read it (the page says 03-1234-5678, not +81312345678)."""
    return {number.strip(): phone.display(number.strip()) for number in DIALLED_NUMBER.findall(twiml)}


def answer_json(call_sid: str, response):
    call = Call.get_or_none(Call.call_sid == call_sid)
    payload = {"call_sid": call_sid, "status": response.status_code, "twiml": response.get_data(as_text=True)}
    if call is not None:
        payload["captions"] = captions(call)
    payload["numbers"] = shown_numbers(payload["twiml"])
    return jsonify(payload), (200 if response.status_code == 200 else 502)


@routes.route("/simulator")
@role_required("staff")
def simulator():
    flows = list(Flow.select().order_by(Flow.number))
    return render_template("ivr/simulator.html", flows=flows)


@routes.route("/simulator/start", methods=["POST"])
@role_required("staff")
@json_request
def simulator_start(body: dict):
    to = phone.to_e164(str(body.get("to", "")), complete=False)  # a flow's own number, chosen from a list
    if not to:
        return api_error("invalid", "発信先（着信番号）を選んでください。")
    if body.get("withheld"):
        caller = "anonymous"
    else:
        caller, problem = phone.parse_entry(str(body.get("from", "")), "発信者番号")
        if problem:
            return api_error("invalid", problem + "（非通知で試す場合は「非通知」を選んでください）")
    sid = "CA" + secrets.token_hex(16)
    ringing = inbound_call_params(sid, caller, to, SIMULATED_ACCOUNT, status="ringing")
    if body.get("draft"):  # the draft of the flow answering `to`, frozen as a trial version for this call
        flow = Flow.get_or_none(Flow.number == to)
        if flow is None:
            return api_error("invalid", "下書きを試すフローが見つかりません。")
        ringing[TRIAL_PARAM] = str(trial_version(flow, current_user.username).id)
    response = post_signed(VOICE_PATH, ringing)
    Call.update(simulated=True).where(Call.call_sid == sid).execute()
    return answer_json(sid, response)


@routes.route("/simulator/send", methods=["POST"])
@role_required("staff")
@json_request
def simulator_send(body: dict):
    call = Call.get_or_none(Call.call_sid == str(body.get("call_sid", "")))
    if call is None or not call.simulated:
        return api_error("invalid", "シミュレーターの通話が見つかりません。もう一度発信してください。", 404)
    path = webhook_path(str(body.get("url", "")))
    if path is None:
        return api_error("invalid", "この URL には送信できません（アプリの音声 Webhook のみ）。")
    given = body.get("params") if isinstance(body.get("params"), dict) else {}
    extra = {key: str(given[key]) for key in FORWARDED_FIELDS if given.get(key) is not None}
    return answer_json(call.call_sid, post_signed(path, twilio_params(call, **extra)))


@routes.route("/simulator/hangup", methods=["POST"])
@role_required("staff")
@json_request
def simulator_hangup(body: dict):
    call = Call.get_or_none(Call.call_sid == str(body.get("call_sid", "")))
    if call is None or not call.simulated:
        return api_error("invalid", "シミュレーターの通話が見つかりません。", 404)
    status = body.get("status") if body.get("status") in ("completed", "busy", "no-answer", "canceled") else "completed"
    seconds = body.get("seconds")  # what the page measured; anything else counts as 0 (the call still ends)
    usable = isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds >= 0
    seconds = str(min(int(seconds), MAX_REPORTED_SECONDS)) if usable else "0"
    ended = twilio_params(call, CallStatus=status, CallDuration=seconds)
    response = post_signed(VOICE_PATH + "/status", ended)
    if response.status_code != 204:
        return api_error("invalid", "通話終了を記録できませんでした。", 502)
    return call_json(call.call_sid)


@routes.route("/simulator/recording", methods=["POST"])
@role_required("staff")
def simulator_recording():
    """A voicemail the page recorded (the tester's microphone, or silence without one): kept for staff to play,
    its URL then goes to the <Record> action as Twilio's RecordingUrl would."""
    call = Call.get_or_none(Call.call_sid == request.form.get("call_sid", ""))
    if call is None or not call.simulated:
        return api_error("invalid", "シミュレーターの通話が見つかりません。もう一度発信してください。", 404)
    upload = request.files.get("audio")
    data = upload.read(MAX_RECORDING_BYTES + 1) if upload else b""
    if not data:
        return api_error("invalid", "録音データがありません。")
    if len(data) > MAX_RECORDING_BYTES:
        return api_error("invalid", f"録音が大きすぎます（{MAX_RECORDING_BYTES // 1024 // 1024} MB まで）。", 413)
    kind = recording_kind(data)
    if kind is None:
        return api_error("invalid", "録音の形式が正しくありません（WebM・Ogg・WAV のみ）。")
    name = f"{call.call_sid}.{kind}"
    write_atomically(recordings_dir() / name, data)
    return jsonify({"url": external_url(url_for("ivr.simulator_recording_file", name=name))})


@routes.route("/simulator/recordings/<name>")
@role_required("staff")
def simulator_recording_file(name: str):
    match = RECORDING_NAME.fullmatch(name)
    path = recordings_dir() / name
    if match is None or not path.is_file():
        abort(404)
    return send_file(path, mimetype=RECORDING_TYPES[match.group(1)], conditional=True)


def recording_kind(data: bytes) -> str | None:
    """webm, ogg or wav by the file's own signature (what MediaRecorder and the page's silent WAV produce)."""
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    return None


def recordings_dir() -> Path:
    path = Path(setting("ivr.simulator_recordings_dir"))
    return path if path.is_absolute() else ROOT / path


def sweep_recordings() -> int:
    """Delete the recordings of calls no longer kept (the 90-day purge removed them); returns how many."""
    directory = recordings_dir()
    if not directory.is_dir():
        return 0
    files = {path.name.split(".")[0]: path for path in directory.iterdir() if RECORDING_NAME.fullmatch(path.name)}
    kept = {sid for (sid,) in Call.select(Call.call_sid).where(Call.call_sid.in_(list(files))).tuples()} if files else set()
    gone = [path for sid, path in files.items() if sid not in kept]
    for path in gone:
        path.unlink(missing_ok=True)
    return len(gone)


@routes.route("/simulator/calls/<call_sid>")
@role_required("staff")
def simulator_call(call_sid: str):
    # Only the simulator's own calls: a real caller's record (number, path, SMS text) is the reports' (managers').
    if not Call.select().where((Call.call_sid == call_sid) & Call.simulated).exists():
        return api_error("invalid", "通話が見つかりません。", 404)
    return call_json(call_sid)


def call_json(call_sid: str):
    """The call's record as the simulator shows it: outcome, events, and the SMS it queued."""
    call = Call.get_or_none(Call.call_sid == call_sid)
    if call is None:
        return api_error("invalid", "通話が見つかりません。", 404)
    events = [{"at": e.at.strftime("%H:%M:%S"), "kind": e.kind, "kind_label": EVENT_LABELS.get(e.kind, e.kind),
               "node": e.node_name or e.node_key, "digits": e.digits, "detail": e.detail}
              for e in CallEvent.select().where(CallEvent.call == call.id).order_by(CallEvent.id)]
    messages = [{"id": m["id"], "to": phone.display(m["to_number"]), "body": m["body"], "state": m["state"],
                 "state_label": m["state_label"], "parts": m["parts"], "box_number": m["box_number"]}
                for m in messages_for_call(call_sid)]
    return jsonify({"call_sid": call.call_sid, "outcome": call.outcome,
                    "outcome_label": OUTCOME_LABELS.get(call.outcome or "", "通話中"),
                    "abandoned_node": call.abandoned_node_name, "events": events, "sms": messages})
