"""The call-flow editor: the flow picture edits a draft (saved as the manager works), 公開 publishes it as the next
version, the history shows each version's changes and republishes an old one, new flows start from a template.

The page's script (static ivr/flow_editor.js) draws the picture and the node panel from the draft as JSON and
saves it back whole; the checks and the words of every problem are the server's (ivr.validation via ivr.issues).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, phone
from core.db import database
from core.inputs import json_request
from core.routes import Routes
from core.security import api_error, role_required
from guidance import public as guidance_public
from ivr import versions
from ivr.diff import describe_changes
from ivr.flowjson import ShapeError, spec_from_dict, spec_to_dict
from ivr.forms import editor_defaults
from ivr.issues import issues_of
from ivr.messages import EXIT_LABELS, KIND_LABELS, WEEKDAY_LABELS
from ivr.models import Flow
from ivr.spec import REQUIRED_EXITS, FlowSpec
from ivr.starters import STARTERS
from ivr.store import FlowInvalid, known_boxes, known_guidance_ids
from ivr.validation import validate_flow
from sms import public as sms_public

log = logging.getLogger("ivr.editor")
routes = Routes()
GUIDANCE_TEXT_MAX = 500
# Which kind of guidance a panel field makes when the manager types its text.
FIELD_GUIDANCE_KINDS = {"guidance": "pb", "timeout_guidance": "timeout", "mis_entry_guidance": "mis_entry"}
NODE_GUIDANCE_KINDS = {"play": "greeting", "sms": "sms_sent", "hangup": "closing", "transfer": "other",
                       "voicemail": "other"}


def flow_or_404(flow_id: int) -> Flow:
    return Flow.get_or_none(Flow.id == flow_id) or abort(404)


def draft_issues(flow: Flow, spec: FlowSpec) -> list[dict]:
    """Every problem publishing would refuse, pointed at its node and field."""
    errors = validate_flow(spec, known_guidance_ids(), known_boxes())
    return [issue.as_dict() for issue in issues_of(errors)]


def for_page(spec: FlowSpec) -> dict:
    """The draft as the page edits it: transfer numbers as staff write them (03-1234-5678)."""
    data = spec_to_dict(spec)
    for node in data["nodes"]:
        if node["kind"] == "transfer" and node["params"].get("number"):
            node["params"]["number"] = phone.display(str(node["params"]["number"]))
    return data


def from_page(spec: FlowSpec) -> FlowSpec:
    """The page's draft as stored: complete transfer numbers in E.164 (an incomplete one stays, to be named)."""
    nodes = {}
    for key, node in spec.nodes.items():
        if node.kind == "transfer" and node.param("number"):
            number = phone.to_e164(str(node.param("number")))
            if number:
                node = replace(node, params={**node.params, "number": number})
        nodes[key] = node
    return replace(spec, nodes=nodes)


def guidance_options() -> list[dict]:
    """Every guidance with its audio paths (the panel's listen button)."""
    return [{"id": gid, "label": label, "audio": [item.url for item in guidance_public.playlist(gid) if item.url]}
            for gid, label in guidance_public.guidance_choices()]


def editor_data(flow: Flow, spec: FlowSpec, issues: list[dict]) -> dict:
    return {"flow": for_page(spec), "issues": issues, "guidance": guidance_options(), "defaults": editor_defaults(),
            "boxes": [{"id": n, "label": label} for n, label in sms_public.box_choices()],
            "kinds": KIND_LABELS, "exit_labels": EXIT_LABELS, "required_exits": REQUIRED_EXITS,
            "weekdays": list(WEEKDAY_LABELS),
            "urls": {"save": url_for("ivr.flow_draft_save", flow_id=flow.id),
                     "guidance": url_for("ivr.flow_guidance_new", flow_id=flow.id),
                     "preview": url_for("guidance.preview_voice")}}


# --- the editor page ----------------------------------------------------------------------------------------------
@routes.route("/flows/<int:flow_id>/editor")
@role_required("staff")
def flow_editor_page(flow_id: int):
    flow = flow_or_404(flow_id)
    return editor_page(flow, [])


def editor_page(flow: Flow, errors: list[str], status: int = 200):
    spec = versions.editing_spec(flow)
    draft = versions.draft_of(flow)
    return render_template("ivr/flow_editor.html", flow=flow, draft=draft, errors=errors,
                           published=versions.published_version(flow),
                           data=editor_data(flow, spec, draft_issues(flow, spec))), status


@routes.route("/flows/<int:flow_id>/draft", methods=["POST"])
@role_required("staff")
@json_request
def flow_draft_save(body: dict, flow_id: int):
    flow = flow_or_404(flow_id)
    try:
        spec = from_page(spec_from_dict(body.get("flow")))
    except ShapeError as error:
        return api_error("invalid", str(error))
    draft = versions.save_draft(flow, spec, current_user.username)
    return {"saved_at": draft.updated_at.strftime("%H:%M:%S"), "issues": draft_issues(flow, spec)}


@routes.route("/flows/<int:flow_id>/draft/discard", methods=["POST"])
@role_required("staff")
def flow_draft_discard(flow_id: int):
    flow = flow_or_404(flow_id)
    if versions.discard_draft(flow):
        audit.record("ivr.flow.draft_discarded", f"{flow.name} ({flow.number})", {"flow_id": flow.id})
        flash("下書きを破棄しました。公開中の版を表示しています。", "success")
    return redirect(url_for("ivr.flow_editor_page", flow_id=flow.id))


@routes.route("/flows/<int:flow_id>/publish", methods=["POST"])
@role_required("staff")
def flow_publish(flow_id: int):
    flow = flow_or_404(flow_id)
    try:
        version = versions.publish(flow, current_user.username)
    except FlowInvalid as exc:
        return editor_page(flow, ["公開できません。次の点を直してください。"] + exc.errors, 400)
    flash(f"版 {version.number} を公開しました。これからかかる電話はこの版で応答します（通話中の電話は元の版のまま終わります）。",
          "success")
    return redirect(url_for("ivr.flow_editor_page", flow_id=flow.id))


@routes.route("/flows/<int:flow_id>/guidance", methods=["POST"])
@role_required("staff")
@json_request
def flow_guidance_new(body: dict, flow_id: int):
    """A guidance typed in the panel: made (synthesized now) and offered in every guidance field."""
    flow = flow_or_404(flow_id)
    text = str(body.get("text") or "").strip()
    if not text:
        return api_error("invalid", "ガイダンスの文章を入力してください。")
    if len(text) > GUIDANCE_TEXT_MAX:
        return api_error("invalid", f"ガイダンスの文章は {GUIDANCE_TEXT_MAX} 文字以内にしてください。")
    field = str(body.get("field") or "guidance")
    node_kind = str(body.get("node_kind") or "")
    kind = FIELD_GUIDANCE_KINDS.get(field, "other") if node_kind == "menu" else NODE_GUIDANCE_KINDS.get(node_kind, "other")
    node_name = str(body.get("node_name") or "")[:30]
    name = f"{flow.name[:40]}・{node_name}・{hashlib.sha256(text.encode()).hexdigest()[:6]}"
    try:
        gid = guidance_public.ensure_guidance(name[:100], kind, text)
    except Exception as exc:  # noqa: BLE001 - guidance refuses text with its own error type (not public): say so
        log.warning("guidance from the flow editor not made: %s", exc)
        return api_error("synthesis", " ".join(getattr(exc, "errors", [])) or "音声を作成できませんでした。文章を確かめてください。", 422)
    label = dict(guidance_public.guidance_choices()).get(gid, name)
    return {"id": gid, "label": label, "audio": [i.url for i in guidance_public.playlist(gid) if i.url]}


# --- history ---------------------------------------------------------------------------------------------------------
@routes.route("/flows/<int:flow_id>/versions")
@role_required("staff")
def flow_versions(flow_id: int):
    flow = flow_or_404(flow_id)
    labels = dict(guidance_public.guidance_choices())
    entries = versions.history(flow, lambda old, new: describe_changes(old, new, labels))
    return render_template("ivr/flow_versions.html", flow=flow, entries=entries, draft=versions.draft_of(flow))


@routes.route("/flows/<int:flow_id>/versions/<int:number>/restore", methods=["POST"])
@role_required("staff")
def flow_restore(flow_id: int, number: int):
    flow = flow_or_404(flow_id)
    try:
        version = versions.restore(flow, number, current_user.username)
    except FlowInvalid as exc:
        for message in exc.errors:
            flash(message, "error")
        return redirect(url_for("ivr.flow_versions", flow_id=flow.id))
    flash(f"版 {number} の内容を版 {version.number} として公開しました。", "success")
    return redirect(url_for("ivr.flow_versions", flow_id=flow.id))


# --- a new flow from a template -------------------------------------------------------------------------------------
@routes.route("/flows/start", methods=["GET", "POST"])
@role_required("staff")
def flow_start():
    flows = list(Flow.select().order_by(Flow.number))
    form = request.form if request.method == "POST" else {"starter": "reception"}
    errors: list[str] = []
    if request.method == "POST":
        flow, errors = create_from_starter(form, flows)
        if flow is not None:
            flash(f"フロー「{flow.name}」を作りました。図のノードを選んでガイダンスなどを設定し、試してから公開してください。",
                  "success")
            return redirect(url_for("ivr.flow_editor_page", flow_id=flow.id))
    return render_template("ivr/flow_start.html", starters=STARTERS, flows=flows, form=form,
                           errors=errors), (400 if errors else 200)


def create_from_starter(form, flows: list[Flow]) -> tuple[Flow | None, list[str]]:
    name = form.get("name", "").strip()
    raw_number = form.get("number", "").strip()
    number = phone.to_e164(raw_number, complete=False) if raw_number else None
    starter = form.get("starter", "")
    errors = []
    if not name:
        errors.append("フロー名を入力してください。")
    elif len(name) > 100:
        errors.append("フロー名は 100 文字以内にしてください。")
    if number is None:
        errors.append("着信番号を正しく入力してください（例: 050-1234-5678）。")
    elif (taken := Flow.get_or_none(Flow.number == number)) is not None:
        errors.append(f"着信番号 {phone.display(number)} は既にフロー「{taken.name}」で使われています。")
    spec = starter_spec(starter, form.get("copy_of", ""), flows)
    if spec is None:
        errors.append("ひな形を選んでください（コピーする場合はコピー元のフローも）。")
    if errors:
        return None, errors
    with database.atomic():
        flow = Flow.create(name=name, number=number, updated_by=current_user.username)
        versions.save_draft(flow, spec, current_user.username)
        audit.record("ivr.flow.created", f"{flow.name} ({flow.number})", {"flow_id": flow.id, "template": starter})
    return flow, []


def starter_spec(starter: str, copy_of: str, flows: list[Flow]) -> FlowSpec | None:
    if starter in STARTERS:
        boxes = sorted(known_boxes())
        return STARTERS[starter][2](boxes[0] if boxes else None)
    if starter == "copy":
        source = next((f for f in flows if str(f.id) == copy_of), None)
        return versions.editing_spec(source) if source else None
    return None
