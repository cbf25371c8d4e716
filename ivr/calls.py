"""Calls in the database: answer, continue and end a call, from the request parameters Twilio sends.

Each TwiML answer carries a step number in its action URLs. A request for the step the call waits
for takes it (the call read and the answer stored in one write transaction, so two copies of one
request cannot both pass), runs the engine and stores the answer; a repeated request (Twilio's
retry) gets the stored answer again and changes nothing: no second SMS, no retry counted twice.
A call whose last step this process stored skips the read: the step is worked out from what the process
remembers and stored only if the row still holds that step and state (one statement, in which two copies of
a request cannot both pass either); otherwise it takes the locked read.
Everything is read from the database: no synthesis and no provider call happens here (SMS are only queued).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from time import monotonic
from xml.sax.saxutils import escape as xml_escape

from flask import current_app
from peewee import JOIN, IntegrityError

from core import clock, events, phone
from core.calendar import calendar_for
from core.config import setting
from core.db import write_transaction
from core.inputs import INT_MAX, InputError, int_or, parse_int
from core.twilio import external_url
from guidance import public as guidance_public
from ivr import callsql, speech, timeline, twiml
from ivr.engine import Event, Ports, Step, hangup_outcome, resume, start
from ivr.messages import PART_LABELS
from ivr.models import Call, CallerRule, CallRecording, Flow, FlowVersion, Voicemail
from ivr.spec import FlowError, FlowSpec
from ivr.state import CallState
from ivr.verbs import MAX_REPORTED_SECONDS, input_from_params
from sms import public as sms_public

log = logging.getLogger("ivr.calls")
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")
LIVE_STATUSES = ("queued", "initiated", "ringing", "in-progress")
SID_LENGTH = Call.call_sid.max_length
NUMBER_LENGTH = Call.from_number.max_length
WITHHELD = "withheld"
# How long rendered TwiML is reused: a guidance re-recorded or re-synthesized by staff is heard on calls
# at most this much later, and a key press does not pay for reading the same playlists again.
TWIML_SECONDS = 3.0
TWIML_CACHE_SIZE = 2000
ACTION_MARK = "__ivr_action_url__"  # stands for the step's action URL in cached TwiML
EMPTY_TIMELINE = timeline.stored(0, "[]")
# The guidance before a <Dial> or a <Record>: a caller who hangs up during it was never put through.
BEFORE_CONNECTING = ("transfer", "recording_notice", "voicemail_prompt")  # a call recorded with timelines (null: recorded before migration 0013)
# A signed form field only the call simulator sends: the trial version of a draft the call runs instead of
# the published one (Twilio never sends it, and nobody else can sign it).
TRIAL_PARAM = "IvrTrialVersion"
VERSION_CACHE_SIZE = 500
LIVE_CALL_CACHE_SIZE = 2000


@dataclass(frozen=True)
class Answer:
    xml: str
    call_sid: str


# --- flows, cached per revision ----------------------------------------------------------------------------
def flow_spec(flow_id: int, revision: str) -> FlowSpec:
    """The parsed flow; re-read only when its revision changed (any process may have saved it)."""
    cache = current_app.extensions.setdefault("ivr_flow_cache", {})
    cached = cache.get(flow_id)
    if cached and cached[0] == revision:
        return cached[1]
    flow = Flow.get_by_id(flow_id)
    spec = flow.spec()
    cache[flow_id] = (flow.revision, spec)
    return spec


def version_spec(version_id: int) -> FlowSpec:
    """The parsed flow of a version; versions never change, so it is read once per process."""
    cache = current_app.extensions.setdefault("ivr_version_cache", {})
    spec = cache.get(version_id)
    if spec is None:
        if len(cache) >= VERSION_CACHE_SIZE:
            cache.clear()
        spec = cache[version_id] = FlowVersion.get_by_id(version_id).spec()
    return spec


def started_version(flow: Flow, params: dict) -> int | None:
    """The version a new call runs: the published one, or the simulator's trial of this flow's draft."""
    trial = params.get(TRIAL_PARAM, "")
    if trial.isascii() and trial.isdigit() and len(trial) < 10:
        found = FlowVersion.get_or_none((FlowVersion.id == int(trial)) & (FlowVersion.flow == flow.id)
                                        & FlowVersion.number.is_null())
        if found is not None:
            return found.id
    return flow.version_id


def spec_of(flow_id: int, version_id: int | None, revision: str | None) -> FlowSpec:
    """The flow a call runs: its version, or (a call from before versions) the flow as it stands."""
    return version_spec(version_id) if version_id else flow_spec(flow_id, revision)


def rendered(verbs: list, action: str) -> tuple[str, str]:
    """The TwiML of the engine's verbs (twiml.render) and the JSON of its timeline items (ivr.timeline), both
    reused for TWIML_SECONDS within this process."""
    cache = current_app.extensions.setdefault("ivr_twiml_cache", {})
    key = (tuple(verbs), timeline.tags(verbs))
    now = monotonic()
    hit = cache.get(key)
    if hit is None or now - hit[0] >= TWIML_SECONDS:
        if len(cache) >= TWIML_CACHE_SIZE:  # read-back numbers make new keys: keep memory flat
            cache.clear()
        playlists: dict[int, list] = {}

        def playlist(guidance_id: int) -> list:  # one read per guidance for the TwiML and the timeline
            if guidance_id not in playlists:
                playlists[guidance_id] = guidance_public.playlist(guidance_id)
            return playlists[guidance_id]

        xml = str(twiml.render(verbs, ACTION_MARK, playlist, recording_callback_url(), setting("ivr.speech_timeout")))
        hit = cache[key] = (now, xml, timeline.items_json(timeline.build(verbs, playlist)))
    return hit[1].replace(ACTION_MARK, xml_escape(action, {'"': "&quot;"})), hit[2]


def action_url(step: int) -> str:
    """The absolute URL of a step's webhook; built once per app, as it runs on every key press. Built from the
    URL map, not url_for: the webhook shortcut runs without a request context, and Twilio signs the public
    URL, which is PUBLIC_BASE_URL + the route whatever the app is mounted under."""
    template = current_app.extensions.get("ivr_action_url")
    if template is None:
        template = external_url(current_app.url_map.bind("").build("twilio_voice.step", {"step": 0}))
        template = current_app.extensions["ivr_action_url"] = template[:template.rindex("/0")] + "/{}"
    return template.format(step)


def recording_callback_url() -> str:
    """Where Twilio reports a recorded transfer's recording (built once per app, as action_url)."""
    url = current_app.extensions.get("ivr_recording_url")
    if url is None:
        url = current_app.extensions["ivr_recording_url"] = external_url(
            current_app.url_map.bind("").build("twilio_voice.recording"))
    return url


class NeedsLock(Exception):
    """A step worked out without holding the call's row wants to queue an SMS: it runs again under the lock."""


def ports_for(call_sid: str, step: int, locked: bool = True) -> Ports:
    def send_sms(box: int, to: str, node_key: str):
        if not locked:
            raise NeedsLock
        return sms_public.send_box_to_caller(box, to, call_sid=call_sid,
                                             idempotency_key=f"ivr:{call_sid}:{step}:{node_key}")

    def match_speech(node, said: str, confidence):
        return speech.choose(node.param("keywords") or {}, said, confidence, setting("ivr.speech_confidence"))

    return Ports(now=clock.now(), holiday_name=lambda day: calendar_for(day).holiday_name(day),
                 check_mobile=sms_public.check_mobile, send_sms=send_sms, match_speech=match_speech)


# --- answering -------------------------------------------------------------------------------------------------
def answer(params: dict, simulated: bool = False) -> Answer:
    """POST /twilio/voice: a new call (or Twilio's retry of it)."""
    sid = params.get("CallSid", "")
    if not sid or len(sid) > SID_LENGTH:  # never one of Twilio's (34 characters): nothing to record it under
        log.warning("call without a usable CallSid (%r)", sid[:40])
        return Answer(str(twiml.system_error()), sid[:SID_LENGTH])
    existing = Call.get_or_none(Call.call_sid == sid)
    if existing is not None:
        return Answer(existing.last_response, sid)
    try:
        with write_transaction():
            return Answer(_answer_new(sid, params, simulated), sid)
    except IntegrityError:  # a copy of this request created the call first
        return Answer(Call.get(Call.call_sid == sid).last_response, sid)


def _answer_new(sid: str, params: dict, simulated: bool) -> str:
    # Twilio sends E.164 numbers, "anonymous" or a short SIP name; anything longer is cut to what the columns hold.
    to = phone.e164_or_text(params.get("To", ""))[:NUMBER_LENGTH]
    caller = params.get("From", "")
    flow = Flow.get_or_none(Flow.number == to)
    version_id = started_version(flow, params) if flow is not None else None
    call = Call.create(call_sid=sid, flow=flow, from_number=phone.e164_or_text(caller)[:NUMBER_LENGTH], to_number=to,
                       started_at=clock.now(), simulated=simulated, step=1, timeline=EMPTY_TIMELINE,
                       flow_version_id=version_id)
    if flow is None:
        return _end_at_once(call, twiml.unknown_number(), "error", "error", f"未登録の番号への着信: {to}")
    if version_id is None and not flow.entry_key:  # a new flow still a draft: nothing published to answer with
        return _end_at_once(call, twiml.unknown_number(), "error", "error", f"未公開のフローへの着信: {to}")
    rule = caller_rule(caller, flow)
    if rule is not None and rule.action == "block":
        return _end_at_once(call, twiml.rejected(), "completed", "hangup", "着信拒否リストの番号のため拒否しました")
    spec = spec_of(flow.id, version_id, flow.revision)
    entry = rule.node_key if rule is not None else None
    try:
        result = start(spec, CallState(caller=caller), ports_for(sid, 0), entry)
    except FlowError as exc:
        return _fail(call, exc)
    return _store(call, result, 1)


def caller_rule(caller: str, flow: Flow) -> CallerRule | None:
    """R-09a: a block (everywhere or in this flow) wins over routing to a node of this flow."""
    numbers = [phone.e164_or_text(caller)]
    if phone.is_withheld(caller):
        numbers.append(WITHHELD)
    rules = list(CallerRule.select().where(CallerRule.number.in_(numbers),
                                           CallerRule.flow.is_null() | (CallerRule.flow == flow.id)))
    rules.sort(key=lambda r: (r.action != "block", r.flow_id is None))
    return rules[0] if rules else None


def proceed(step: int, params: dict) -> Answer:
    """POST /twilio/voice/step/<step>: the caller pressed keys, timed out, a transfer or a recording ended.
    A call whose last step this process stored goes on from what it remembers (_proceed_remembered); otherwise,
    or when that cannot be used, the call is read inside the write transaction, so a copy of this request waits
    for it to commit, then finds the step taken and gets the stored answer."""
    sid = params.get("CallSid", "")
    known = _live_calls().get(sid)
    if known is not None and known.step == step:
        xml = _proceed_remembered(known, step, params)
        if xml is not None:
            return Answer(xml, sid)
    with write_transaction():
        call = callsql.fetch_call(sid, for_update=True)
        if call is None:
            log.warning("step %s for unknown call %s", step, sid)
            return Answer(str(twiml.system_error()), sid)
        if step != call.step:
            if step > call.step:
                log.warning("call %s: step %s requested, %s expected", sid, step, call.step)
            return Answer(call.last_response, sid)
        return Answer(_proceed_claimed(call, step, params), sid)


def _proceed_claimed(call: callsql.LiveCall, step: int, params: dict) -> str:
    state = CallState.from_json(call.state)
    if call.flow_id is None or state.wait is None:
        return call.last_response
    try:
        result = _resumed(call, state, params, ports_for(call.call_sid, step))
    except (FlowError, Flow.DoesNotExist, FlowVersion.DoesNotExist) as exc:
        return _fail(call, exc)
    return _store(call, result, step + 1)


def _resumed(call: callsql.LiveCall, state: CallState, params: dict, ports: Ports) -> Step:
    spec = spec_of(call.flow_id, call.flow_version_id, call.revision)
    return resume(spec, state, input_from_params(state.wait.mode, params), ports)


def _proceed_remembered(call: callsql.LiveCall, step: int, params: dict) -> str | None:
    """The step of a call as remembered by _remember, worked out without the call's row and stored only if the
    row still holds what it was worked out from (callsql.store_step_if_unchanged: one round trip on PostgreSQL
    instead of a locking read and a write). None when nothing was stored and the step must take the locked way:
    the row moved on (a copy of this request answered, another process took a step) or the step queues an SMS,
    keeps a recording or fails; those run as they always did."""
    try:
        result = _resumed(call, CallState.from_json(call.state), params, ports_for(call.call_sid, step, locked=False))
    except (NeedsLock, FlowError, Flow.DoesNotExist, FlowVersion.DoesNotExist):
        return None
    if _durable(result):
        return None
    xml, fields = _step_fields(call, result, step + 1)
    seen = (call.step, call.state, call.flow_id, call.flow_version_id)
    if not callsql.store_step_if_unchanged(call.id, seen, **fields):
        return None
    _remember(call, result, fields)
    return xml


def _store(call, result: Step, next_step: int) -> str:
    """Keep the step's answer and state on the call (`call` is a Call or a LiveCall) and add its events."""
    xml, fields = _step_fields(call, result, next_step)
    callsql.store_step(call.id, **fields, durable=_durable(result),
                       last=not result.recording)  # nothing else is written in the step's transaction
    if result.recording and result.recording.url:
        last_name = fields["last_node_name"]
        Voicemail.create(call=call.id, node_name=last_name or "", url=result.recording.url,
                         seconds=result.recording.seconds)
        announce_call(events.VOICEMAIL_LEFT, call.id, node_name=last_name or "",
                      seconds=result.recording.seconds)
    _remember(call, result, fields)
    return xml


def _step_fields(call, result: Step, next_step: int) -> tuple[str, dict]:
    """(the step's TwiML, what callsql stores for it)."""
    xml, items = rendered(result.verbs, action_url(next_step))
    last = result.last_node
    served_at = (clock.now() - call.started_at).total_seconds()
    return xml, {"step": next_step, "state": result.state.to_json(), "last_response": xml, "outcome": result.outcome,
                 "last_node_key": last.key if last else None, "last_node_name": last.label[:100] if last else None,
                 "timeline": timeline.stored(served_at, items), "at": clock.now(), "events": result.events}


def _durable(result: Step) -> bool:
    """Whether the step queues an SMS or keeps a recording (its commit must reach the disk: RELAXED_COMMIT)."""
    return bool(result.recording) or any(event.kind == "sms" for event in result.events)


# --- calls this process took the last step of --------------------------------------------------------------
def _live_calls() -> dict[str, callsql.LiveCall]:
    return current_app.extensions.setdefault("ivr_live_calls", {})


def _remember(call, result: Step, fields: dict) -> None:
    """Keep the step just stored (`call` is a Call or a LiveCall), so the call's next webhook need not read the row.
    Only what the row's own values will vouch for is used (store_step_if_unchanged), so an entry left behind by
    a transaction that rolled back, or overtaken by another process, costs a locked step and nothing else. Calls
    from before versions (run on the flow as it stands) and calls that wait for nothing are not kept."""
    live = _live_calls()
    if call.flow_id is None or call.flow_version_id is None or result.state.wait is None:
        live.pop(call.call_sid, None)
        return
    if len(live) >= LIVE_CALL_CACHE_SIZE:
        live.clear()
    live[call.call_sid] = callsql.LiveCall(call.id, call.call_sid, fields["step"], fields["state"], call.flow_id,
                                           fields["last_response"], revision=None,  # the call runs its version
                                           flow_version_id=call.flow_version_id, started_at=call.started_at)


def _end_at_once(call: Call, response, outcome: str, kind: str, detail: str) -> str:
    xml = str(response)
    Call.update(outcome=outcome, last_response=xml, last_node_name=detail[:100]).where(Call.id == call.id).execute()
    _add_events(call, [Event(kind, detail=detail)])
    return xml


def _fail(call: Call, exc: Exception) -> str:
    log.error("call %s: flow error: %s", call.call_sid, exc)
    return _end_at_once(call, twiml.system_error(), "error", "error", f"フローエラー: {exc}")


def _add_events(call, call_events: list[Event]) -> None:
    callsql.insert_events(call.id, clock.now(), call_events)


# --- the end of a call ------------------------------------------------------------------------------------------
def ended(params: dict) -> None:
    """POST /twilio/voice/status: the call is over; a call that never reached an end node was abandoned (R-04)."""
    sid = params.get("CallSid", "")
    status = params.get("CallStatus", "")
    if status in FINAL_STATUSES:
        _live_calls().pop(sid, None)
    call = Call.get_or_none(Call.call_sid == sid)
    if call is None:
        log.warning("status %s for unknown call %s", status, sid)
        return
    if status in LIVE_STATUSES:
        Call.update(status=status).where((Call.id == call.id) & Call.ended_at.is_null()).execute()
        return
    if status not in FINAL_STATUSES:  # none of Twilio's: nothing to record (the column holds Twilio's words only)
        log.warning("unknown status %r for call %s", status[:40], sid)
        return
    if call.ended_at is not None:
        return  # a repeated callback
    now = clock.now()
    state = call.call_state()
    duration = _reported_duration(params)
    place = hangup_place(call, state, duration, now)
    outcome, abandoned = hangup_outcome(call.outcome, state)
    if outcome in ("transferred", "voicemail") and call.outcome is None and place.part in BEFORE_CONNECTING:
        outcome, abandoned = "abandoned", True  # hung up while told they would be put through: never connected
    fields = dict(status=status, ended_at=now, outcome=outcome,
                  duration_seconds=duration if duration is not None else _clock_duration(call, now))
    call_events = []
    if abandoned:
        fields.update(abandoned_node_key=place.node_key, abandoned_node_name=place.node_name[:100],
                      abandoned_guidance_name=place.guidance_name[:100] or None, abandoned_part=place.part or None)
        call_events.append(Event("hangup", place.node_key, place.node_name, detail=f"途中放棄: {place.description}"))
    elif call.outcome is None and outcome in ("transferred", "voicemail"):
        call_events.append(Event("hangup", call.last_node_key, call.last_node_name,
                            detail=f"通話終了（{'転送中' if outcome == 'transferred' else '録音中'}に切断）"))
    elif place.part:
        call_events.append(Event("hangup", place.node_key, place.node_name, detail=f"通話終了: {place.description}"))
    else:
        call_events.append(Event("hangup", call.last_node_key, call.last_node_name, detail="通話終了"))
    with write_transaction():
        updated = Call.update(**fields).where((Call.id == call.id) & Call.ended_at.is_null()).execute()
        if updated:
            _add_events(call, call_events)
            if abandoned:
                announce_call(events.CALL_ABANDONED, call.id, where=place.description)
            elif outcome == "retry_limit":
                announce_call(events.RETRY_LIMIT_REACHED, call.id, where=call.last_node_name)


def recording_done(params: dict) -> None:
    """POST /twilio/voice/recording: a recorded transfer's recording is ready; stored once however often
    Twilio reports it (keyed by RecordingSid). Other statuses (in-progress, absent, failed) store nothing."""
    status = params.get("RecordingStatus", "completed")
    url = (params.get("RecordingUrl") or "").strip()
    call = Call.get_or_none(Call.call_sid == params.get("CallSid", ""))
    if call is None or status != "completed" or not url.startswith(("https://", "http://")):
        log.warning("recording callback ignored: call %s, status %r", params.get("CallSid", "")[:40], status[:20])
        return
    sid = (params.get("RecordingSid") or url.rsplit("/", 1)[-1])[:64]
    with write_transaction():
        CallRecording.insert(call=call.id, recording_sid=sid, url=url, at=clock.now(),
                             seconds=int_or(params.get("RecordingDuration"), 0, maximum=MAX_REPORTED_SECONDS),
                             channels=int_or(params.get("RecordingChannels"), 1, maximum=2)).on_conflict_ignore(
        ).execute()


def announce_call(kind: str, call_id: int, **extra) -> None:
    """Tell core.events about a call (inside the transaction that recorded it): who called which number."""
    row = (Call.select(Call.call_sid, Call.from_number, Call.to_number, Call.simulated, Flow.name.alias("flow_name"))
           .join(Flow, JOIN.LEFT_OUTER).where(Call.id == call_id).dicts().first())
    if row is None:
        return
    events.announce(kind, {**row, "flow_name": row["flow_name"] or "", "at": f"{clock.now():%Y-%m-%d %H:%M}",
                           **extra})


@dataclass(frozen=True)
class Place:
    """Where a caller hung up: the node, what part of it was playing, its guidance."""

    node_key: str
    node_name: str
    part: str = ""
    guidance_name: str = ""

    @property
    def description(self) -> str:
        if not self.part:
            return self.node_name
        what = PART_LABELS.get(self.part, self.part)
        return f"{self.node_name}（{what}" + (f": {self.guidance_name}）" if self.guidance_name else "）")


def hangup_place(call: Call, state: CallState, duration: int | None, now) -> Place:
    """The node and guidance playing when the caller hung up, from the last document's timeline (R-04); a call
    recorded before timelines gets the node it waited at and the guidance that node plays, as before."""
    recorded = timeline.Timeline.from_json(call.timeline)
    waited = (state.wait.node if state.wait else None) or call.last_node_key
    if recorded is None or not recorded.items:
        name = _node_name(call, waited)
        return Place(waited, name, "", legacy_guidance_name(call, waited))
    since_served = (now - call.started_at).total_seconds() - recorded.served_at
    item = recorded.place(timeline.elapsed_in_document(recorded, duration, since_served))
    key = item.node or waited
    names = guidance_public.guidance_names([item.guidance_id]) if item.guidance_id else {}
    return Place(key, _node_name(call, key), item.part, names.get(item.guidance_id, ""))


def _reported_duration(params: dict) -> int | None:
    """Twilio's CallDuration; a value no call has (non-digits, past a day) is ignored, so a malformed status
    callback still closes the call."""
    try:
        return parse_int(params.get("CallDuration"), "CallDuration", maximum=MAX_REPORTED_SECONDS)
    except InputError:
        return None


def _clock_duration(call: Call, now) -> int:
    return min(max(0, int((now - call.started_at).total_seconds())), INT_MAX)


def _node_name(call: Call, key: str) -> str:
    if call.flow_id is None or not key:
        return call.last_node_name or key or ""
    try:
        node = flow_spec(call.flow_id, call.flow.revision).nodes.get(key)
    except Flow.DoesNotExist:
        node = None
    return node.label if node else (call.last_node_name or key)


def legacy_guidance_name(call: Call, key: str) -> str:
    """The guidance of the node a call waited at (what was recorded before timelines)."""
    if call.flow_id is None:
        return ""
    node = flow_spec(call.flow_id, call.flow.revision).nodes.get(key)
    if node is None or not node.guidance:
        return ""
    return guidance_public.guidance_names([node.guidance]).get(node.guidance, "")
