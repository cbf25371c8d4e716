"""Drafts and versions of a flow: the editor saves to a draft; 公開 checks the whole draft and makes it the next
version; 「この版に戻す」 republishes an old one; the simulator calls a draft through a trial version.

Publishing goes through ivr.store.save_flow, so the nodes other pages read (menus, caller rules, reports) are
always the published version's, and every publish is a numbered FlowVersion that calls started on it keep.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core import audit, clock
from core.db import database
from ivr.flowjson import spec_to_json
from ivr.models import Flow, FlowDraft, FlowVersion
from ivr.spec import FlowSpec
from ivr.store import FlowInvalid, body_digest, flow_errors, save_flow


def published_version(flow: Flow) -> FlowVersion | None:
    return FlowVersion.get_or_none(FlowVersion.id == flow.version_id) if flow.version_id else None


def draft_of(flow: Flow) -> FlowDraft | None:
    return FlowDraft.get_or_none(FlowDraft.flow == flow.id)


def editing_spec(flow: Flow) -> FlowSpec:
    """What the editor shows: the draft, else the published version, else an empty flow."""
    draft = draft_of(flow)
    if draft is not None:
        return draft.spec()
    version = published_version(flow)
    return version.spec() if version else flow.spec()


def save_draft(flow: Flow, spec: FlowSpec, actor: str) -> FlowDraft:
    """Keep the editor's flow as the draft (nothing callers hear changes)."""
    body = spec_to_json(spec)
    now = clock.now()
    with database.atomic():
        updated = (FlowDraft.update(body=body, updated_at=now, updated_by=actor)
                   .where(FlowDraft.flow == flow.id).execute())
        if not updated:
            FlowDraft.create(flow=flow.id, body=body, base_version_id=flow.version_id, updated_at=now,
                             updated_by=actor)
    return draft_of(flow)


def discard_draft(flow: Flow) -> bool:
    return bool(FlowDraft.delete().where(FlowDraft.flow == flow.id).execute())


def publish_errors(flow: Flow, spec: FlowSpec) -> list[str]:
    return flow_errors(spec, flow.name, flow.number, flow)


def publish(flow: Flow, actor: str) -> FlowVersion:
    """The draft becomes the next version (new calls run it); FlowInvalid when the whole flow does not check."""
    draft = draft_of(flow)
    if draft is None:
        raise FlowInvalid(["公開する下書きがありません。"])
    spec = draft.spec()
    with database.atomic():
        saved = save_flow(spec, name=flow.name, number=flow.number, description=flow.description, flow=flow,
                          actor=actor)
        draft.delete_instance()
        version = published_version(saved)
        audit.record("ivr.flow.published", f"{saved.name} ({saved.number})",
                     {"flow_id": saved.id, "version": version.number, "nodes": list(spec.nodes)}, actor=actor)
    return version


def restore(flow: Flow, number: int, actor: str) -> FlowVersion:
    """「この版に戻す」: version `number` is published again as the next version (the history keeps both)."""
    old = FlowVersion.get_or_none((FlowVersion.flow == flow.id) & (FlowVersion.number == number))
    if old is None:
        raise FlowInvalid([f"版 {number} はありません。"])
    with database.atomic():
        saved = save_flow(old.spec(), name=flow.name, number=flow.number, description=flow.description, flow=flow,
                          actor=actor, restored_from=number)
        version = published_version(saved)
        audit.record("ivr.flow.restored", f"{saved.name} ({saved.number})",
                     {"flow_id": saved.id, "version": version.number, "restored_from": number}, actor=actor)
    return version


def trial_version(flow: Flow, actor: str) -> FlowVersion:
    """The draft (or the published flow) frozen for one simulator call; the same draft reuses its trial."""
    body = spec_to_json(editing_spec(flow))
    digest = body_digest(body)
    found = FlowVersion.get_or_none((FlowVersion.flow == flow.id) & FlowVersion.number.is_null()
                                    & (FlowVersion.digest == digest))
    if found is not None:
        return found
    return FlowVersion.create(flow=flow.id, number=None, body=body, digest=digest, created_at=clock.now(),
                              created_by=actor)


# --- history ------------------------------------------------------------------------------------------------
@dataclass
class HistoryEntry:
    version: FlowVersion
    changes: list[str] = field(default_factory=list)
    current: bool = False


def history(flow: Flow, describe) -> list[HistoryEntry]:
    """Published versions, newest first, each with what changed since the one before (`describe` = ivr.diff)."""
    versions = list(FlowVersion.select().where((FlowVersion.flow == flow.id) & FlowVersion.number.is_null(False))
                    .order_by(FlowVersion.number))
    entries = []
    previous = None
    for version in versions:
        spec = version.spec()
        entries.append(HistoryEntry(version, describe(previous, spec), version.id == flow.version_id))
        previous = spec
    return entries[::-1]
