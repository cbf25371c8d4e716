"""Flows and their nodes, caller rules, and call records (Call, CallEvent; reports reads both)."""
from __future__ import annotations

import json
import uuid

from peewee import (
    AutoField, BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField,
)

from core import clock
from core.db import BaseModel
from ivr.flowjson import spec_from_json
from ivr.messages import KIND_LABELS, OUTCOME_LABELS, PART_LABELS
from ivr.spec import FlowSpec, NodeSpec
from ivr.state import CallState


def new_revision() -> str:
    return uuid.uuid4().hex


class Flow(BaseModel):
    """A call flow: what callers of one dialled number (Twilio `To`) hear."""

    class Meta:
        table_name = "ivr_flow"

    id = AutoField()
    name = CharField(max_length=100)
    number = CharField(max_length=32, unique=True)  # E.164
    description = TextField(default="")
    entry_key = CharField(max_length=40, default="")
    # A new random value on every save: webhooks cache the parsed flow per (id, revision).
    revision = CharField(max_length=32, default=new_revision)
    created_at = DateTimeField(default=clock.now)
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")
    # The published FlowVersion new calls run (None: never published, e.g. a new flow still a draft).
    version_id = IntegerField(null=True)

    def ordered_nodes(self):
        return self.nodes.order_by(Node.position, Node.id)

    def spec(self) -> FlowSpec:
        nodes = {node.key: node.spec() for node in self.ordered_nodes()}
        return FlowSpec(entry=self.entry_key, nodes=nodes, name=self.name, number=self.number)


class Node(BaseModel):
    id = AutoField()
    flow = ForeignKeyField(Flow, backref="nodes", on_delete="CASCADE")
    key = CharField(max_length=40)
    name = CharField(max_length=100, default="")
    kind = CharField(max_length=16)
    position = IntegerField(default=0)
    guidance_id = IntegerField(null=True)
    timeout_guidance_id = IntegerField(null=True)
    mis_entry_guidance_id = IntegerField(null=True)
    digits = IntegerField(default=1)
    timeout_seconds = IntegerField(default=5)
    max_tries = IntegerField(default=3)        # timeouts allowed per visit
    max_mis_entries = IntegerField(default=3)  # mis-entries allowed per visit (migration 0013)
    exits = TextField(default="{}")   # JSON: exit label or digits → node key
    params = TextField(default="{}")  # JSON: kind-specific settings (box, number, hours, …)

    class Meta:
        table_name = "ivr_node"
        indexes = ((("flow", "key"), True),)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def label(self) -> str:
        return self.name or self.key

    def exit_map(self) -> dict[str, str]:
        return json.loads(self.exits or "{}")

    def param_map(self) -> dict:
        return json.loads(self.params or "{}")

    def spec(self) -> NodeSpec:
        return NodeSpec(key=self.key, kind=self.kind, name=self.name, guidance=self.guidance_id,
                        timeout_guidance=self.timeout_guidance_id, mis_entry_guidance=self.mis_entry_guidance_id,
                        digits=self.digits, timeout=self.timeout_seconds, max_tries=self.max_tries,
                        max_mis_entries=self.max_mis_entries,
                        exits=self.exit_map(), params=self.param_map())

    @classmethod
    def fields_of(cls, spec: NodeSpec, position: int) -> dict:
        """Column values for a node spec."""
        return dict(key=spec.key, name=spec.name, kind=spec.kind, position=position, guidance_id=spec.guidance,
                    timeout_guidance_id=spec.timeout_guidance, mis_entry_guidance_id=spec.mis_entry_guidance,
                    digits=spec.digits, timeout_seconds=spec.timeout, max_tries=spec.max_tries,
                    max_mis_entries=spec.max_mis_entries,
                    exits=json.dumps(dict(spec.exits), ensure_ascii=False, sort_keys=True),
                    params=json.dumps(dict(spec.params), ensure_ascii=False, sort_keys=True))


class FlowVersion(BaseModel):
    """One published state of a flow (number 1, 2, …), or a trial of a draft in the simulator (number None).
    Never changed once written: calls in progress run on the one they started with."""

    class Meta:
        table_name = "ivr_flow_version"
        indexes = ((("flow", "number"), True),)

    id = AutoField()
    flow = ForeignKeyField(Flow, backref="versions", on_delete="CASCADE")
    number = IntegerField(null=True)
    body = TextField()                       # ivr.flowjson: the entry and every node
    digest = CharField(max_length=64, index=True)
    created_at = DateTimeField(default=clock.now)
    created_by = CharField(max_length=64, default="")
    restored_from = IntegerField(null=True)  # the version number republished by 「この版に戻す」

    def spec(self) -> FlowSpec:
        return spec_from_json(self.body)


class FlowDraft(BaseModel):
    """The flow as the editor left it, not yet published; tried in the simulator, then published or dropped."""

    class Meta:
        table_name = "ivr_flow_draft"

    id = AutoField()
    flow = ForeignKeyField(Flow, backref="drafts", on_delete="CASCADE", unique=True)
    body = TextField()
    base_version_id = IntegerField(null=True)  # the version the draft started from
    updated_at = DateTimeField(default=clock.now)
    updated_by = CharField(max_length=64, default="")

    def spec(self) -> FlowSpec:
        return spec_from_json(self.body)


class CallerRule(BaseModel):
    """R-09a: a caller number blocked everywhere or in one flow, or routed to its own node of a flow."""

    class Meta:
        table_name = "ivr_caller_rule"

    id = AutoField()
    number = CharField(max_length=32, index=True)  # E.164, or "withheld" for 非通知
    action = CharField(max_length=8)               # block / route
    flow = ForeignKeyField(Flow, null=True, backref="caller_rules", on_delete="CASCADE")
    node_key = CharField(max_length=40, default="")
    note = CharField(max_length=200, default="")
    created_at = DateTimeField(default=clock.now)


class Call(BaseModel):
    class Meta:
        table_name = "ivr_call"

    id = AutoField()
    call_sid = CharField(max_length=64, unique=True)
    flow = ForeignKeyField(Flow, null=True, backref="calls", on_delete="SET NULL")
    from_number = CharField(max_length=32, default="")
    to_number = CharField(max_length=32, default="")
    started_at = DateTimeField(default=clock.now, index=True)
    ended_at = DateTimeField(null=True)
    duration_seconds = IntegerField(null=True)
    outcome = CharField(max_length=16, null=True, index=True)
    last_node_key = CharField(max_length=40, default="")
    last_node_name = CharField(max_length=100, default="")
    abandoned_node_key = CharField(max_length=40, null=True)
    abandoned_node_name = CharField(max_length=100, null=True)
    # What was playing when an abandoning caller hung up (migration 0013): the part (ivr.messages.PART_LABELS:
    # greeting, menu_prompt, timeout, mis_entry, …; "unknown" for calls recorded before) and its guidance.
    abandoned_part = CharField(max_length=16, null=True)
    abandoned_guidance_name = CharField(max_length=100, null=True)
    status = CharField(max_length=16, default="in-progress")  # Twilio CallStatus last seen
    simulated = BooleanField(default=False)
    # The step the call waits for; each TwiML's action URLs carry it, so a retried request is recognised.
    step = IntegerField(default=0)
    state = TextField(default="{}")          # ivr.state.CallState as JSON
    last_response = TextField(default="")   # the TwiML last answered, repeated to a retried request
    # The last answer's timeline (ivr.timeline): what it plays, how long, when it was served. Null on calls
    # recorded before migration 0013, which is how the report knows a day was recorded the old way.
    timeline = TextField(null=True)
    # The FlowVersion the call started on: it finishes on it, whatever is published meanwhile.
    flow_version_id = IntegerField(null=True)

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome or "", "通話中")

    @property
    def abandoned_part_label(self) -> str:
        return PART_LABELS.get(self.abandoned_part or "", "")

    def call_state(self) -> CallState:
        return CallState.from_json(self.state)


class CallEvent(BaseModel):
    class Meta:
        table_name = "ivr_call_event"

    id = AutoField()
    call = ForeignKeyField(Call, backref="events", on_delete="CASCADE")
    at = DateTimeField(default=clock.now, index=True)
    kind = CharField(max_length=16)
    node_key = CharField(max_length=40, default="")
    node_name = CharField(max_length=100, default="")
    digits = CharField(max_length=32, default="")
    detail = TextField(default="")


class Voicemail(BaseModel):
    """A caller's recorded message (留守番電話): where the audio is (Twilio's RecordingUrl, or the simulator's own
    file) and whether staff have dealt with it. Goes with its call at the 90-day purge."""

    class Meta:
        table_name = "ivr_voicemail"

    id = AutoField()
    call = ForeignKeyField(Call, backref="voicemails", on_delete="CASCADE", unique=True)
    at = DateTimeField(default=clock.now, index=True)
    node_name = CharField(max_length=100, default="")
    url = TextField()
    seconds = IntegerField(default=0)
    handled_at = DateTimeField(null=True)
    handled_by = CharField(max_length=64, default="")


class CallRecording(BaseModel):
    """A recorded transfer (通話録音): both sides of the conversation after the callee answered, as Twilio's
    recording status callback reports it (or the simulator's own file). Goes with its call at the 90-day purge,
    deleted at Twilio first."""

    class Meta:
        table_name = "ivr_call_recording"

    id = AutoField()
    call = ForeignKeyField(Call, backref="recordings", on_delete="CASCADE", index=True)
    recording_sid = CharField(max_length=64, unique=True)
    at = DateTimeField(default=clock.now, index=True)
    url = TextField()
    seconds = IntegerField(default=0)
    channels = IntegerField(default=1)
