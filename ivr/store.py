"""Saving flows: validated as a whole (against the guidance and storage boxes that exist), then written at once."""
from __future__ import annotations

import hashlib

from core import audit, clock
from core.db import database
from guidance import public as guidance_public
from ivr.flowjson import spec_to_json
from ivr.models import Flow, FlowVersion, Node, new_revision
from ivr.spec import FlowSpec
from ivr.validation import validate_flow
from sms import public as sms_public


class FlowInvalid(Exception):
    """The flow was not saved; `errors` are Japanese sentences naming the field or node."""

    def __init__(self, errors: list[str]):
        super().__init__(" ".join(errors))
        self.errors = errors


def known_guidance_ids() -> set[int]:
    return {gid for gid, _ in guidance_public.guidance_choices()}


def known_boxes() -> set[int]:
    return {number for number, _ in sms_public.box_choices()}


def flow_errors(spec: FlowSpec, name: str, number: str | None, flow: Flow | None) -> list[str]:
    """Problems of the flow's own fields, then of its nodes."""
    errors = []
    if not name.strip():
        errors.append("フロー名を入力してください。")
    elif len(name) > 100:
        errors.append("フロー名は 100 文字以内にしてください。")
    if number is None:
        errors.append("着信番号を正しく入力してください（例: 050-1234-5678 / +815012345678）。")
    else:
        taken = Flow.get_or_none((Flow.number == number) & (Flow.id != (flow.id if flow else 0)))
        if taken is not None:
            errors.append(f"着信番号 {number} は既にフロー「{taken.name}」で使われています。")
    return errors + validate_flow(spec, known_guidance_ids(), known_boxes())


def save_flow(spec: FlowSpec, *, name: str, number: str | None, description: str = "",
              flow: Flow | None = None, actor: str = "", restored_from: int | None = None) -> Flow:
    """Create or replace a flow and its nodes in one transaction, as its next published version (new calls run
    it; calls in progress stay on theirs); raises FlowInvalid and saves nothing."""
    errors = flow_errors(spec, name, number, flow)
    if errors:
        raise FlowInvalid(errors)
    now = clock.now()
    fields = dict(name=name.strip(), number=number, description=description.strip(), entry_key=spec.entry,
                  revision=new_revision(), updated_at=now, updated_by=actor)
    with database.atomic():
        if flow is None:
            flow = Flow.create(created_at=now, **fields)
        else:
            Flow.update(**fields).where(Flow.id == flow.id).execute()
        existing = {node.key: node.id for node in Node.select(Node.id, Node.key).where(Node.flow == flow.id)}
        for position, node in enumerate(spec.nodes.values()):
            values = Node.fields_of(node, position)
            if node.key in existing:
                Node.update(**values).where(Node.id == existing[node.key]).execute()
            else:
                Node.create(flow=flow.id, **values)
        gone = set(existing) - set(spec.nodes)
        if gone:
            Node.delete().where((Node.flow == flow.id) & Node.key.in_(sorted(gone))).execute()
        record_version(flow.id, spec, actor, now, restored_from)
    return Flow.get_by_id(flow.id)


def record_version(flow_id: int, spec: FlowSpec, actor: str, now, restored_from: int | None = None) -> FlowVersion:
    """The flow's next numbered version, made the one new calls run (inside the caller's transaction)."""
    body = spec_to_json(spec)
    last = (FlowVersion.select(FlowVersion.number).where((FlowVersion.flow == flow_id) & FlowVersion.number.is_null(False))
            .order_by(FlowVersion.number.desc()).first())
    version = FlowVersion.create(flow=flow_id, number=(last.number if last else 0) + 1, body=body,
                                 digest=body_digest(body), created_at=now, created_by=actor,
                                 restored_from=restored_from)
    Flow.update(version_id=version.id).where(Flow.id == flow_id).execute()
    return version


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def save_and_audit(spec: FlowSpec, *, action: str, name: str, number: str | None, description: str = "",
                   flow: Flow | None = None, actor: str = "", detail: dict | None = None) -> Flow:
    saved = save_flow(spec, name=name, number=number, description=description, flow=flow, actor=actor)
    audit.record(action, f"{saved.name} ({saved.number})",
                 detail or {"flow_id": saved.id, "nodes": list(spec.nodes), "entry": spec.entry})
    return saved
