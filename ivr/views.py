"""Staff pages of the IVR: flows editor, PB menus (入力指示ルーティング変更), caller rules.

The call simulator and the voicemails are route groups of their own on the same `ivr` blueprint (init_app).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, phone
from core.config import setting
from core.db import database
from core.inputs import int_or
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from guidance import public as guidance_public
from ivr import diagram, forms
from ivr.messages import EXIT_LABELS, KIND_LABELS, WEEKDAY_LABELS
from ivr.models import CallerRule, Flow, Node
from ivr.spec import REQUIRED_EXITS, FlowSpec, NodeSpec
from ivr.store import FlowInvalid, save_and_audit
from ivr.validation import validate_flow
from sms import public as sms_public

routes = Routes()


def choices() -> dict:
    """Dropdown contents shared by the editors."""
    return {
        "guidance_all": guidance_public.guidance_choices(),
        "guidance_pb": guidance_public.guidance_choices("pb"),
        "guidance_timeout": guidance_public.guidance_choices("timeout"),
        "guidance_mis_entry": guidance_public.guidance_choices("mis_entry"),
        "guidance_number_entry": guidance_public.guidance_choices("number_entry"),
        "boxes": sms_public.box_choices(),
        "kinds": KIND_LABELS, "exit_labels": EXIT_LABELS, "required_exits": REQUIRED_EXITS,
        "weekday_labels": WEEKDAY_LABELS, "branch_rows": forms.BRANCH_ROWS,
        "template_row": forms.blank_row("__i__", forms.editor_defaults()),
    }


def flow_diagram(spec: FlowSpec) -> diagram.Diagram:
    return diagram.build(spec, dict(guidance_public.guidance_choices()))


# --- flows ----------------------------------------------------------------------------------------------------
@routes.route("/flows")
@role_required("staff")
def flows():
    rows = []
    for flow in Flow.select().order_by(Flow.number):
        spec = flow.spec()
        rows.append((flow, len(spec.nodes), validate_flow(spec)))
    return render_template("ivr/flows.html", rows=rows)


@routes.route("/flows/new", methods=["GET", "POST"])
@role_required("staff")
def flow_new():
    return flow_editor(None)


@routes.route("/flows/<int:flow_id>", methods=["GET", "POST"])
@role_required("staff")
def flow_edit(flow_id: int):
    return flow_editor(Flow.get_or_none(Flow.id == flow_id) or abort(404))


def flow_editor(flow: Flow | None):
    defaults = forms.editor_defaults()
    saved_spec = flow.spec() if flow else None
    if request.method == "POST":
        form = request.form
        rows = forms.rows_from_form(form, defaults)
        spec, errors = forms.spec_from_rows(rows, form.get("entry", "").strip())
        fields = {"name": form.get("name", "").strip(), "number": form.get("number", "").strip(),
                  "description": form.get("description", "").strip(), "entry": spec.entry}
        if not errors:
            try:
                saved = save_and_audit(spec, action="ivr.flow.updated" if flow else "ivr.flow.created",
                                       name=fields["name"], number=phone.to_e164(fields["number"], complete=False),
                                       description=fields["description"], flow=flow, actor=current_user.username)
                flash(f"フロー「{saved.name}」を保存しました。", "success")
                return redirect(url_for("ivr.flow_edit", flow_id=saved.id))
            except FlowInvalid as exc:
                errors = exc.errors
        rows = [r for r in rows if not forms.is_blank(r)] + [forms.blank_row(len(rows), defaults)]
        return render_template("ivr/flow_edit.html", flow=flow, fields=fields, rows=rows, errors=errors,
                               diagram=flow_diagram(saved_spec) if saved_spec else None, **choices()), 400
    if flow:
        fields = {"name": flow.name, "number": phone.display(flow.number), "description": flow.description,
                  "entry": flow.entry_key}
        rows = forms.rows_from_spec(saved_spec, defaults)
    else:
        fields = {"name": "", "number": "", "description": "", "entry": ""}
        rows = []
    rows.append(forms.blank_row(len(rows), defaults))
    return render_template("ivr/flow_edit.html", flow=flow, fields=fields, rows=rows, errors=[],
                           diagram=flow_diagram(saved_spec) if saved_spec else None, **choices())


@routes.route("/flows/<int:flow_id>/delete", methods=["POST"])
@role_required("staff")
def flow_delete(flow_id: int):
    flow = Flow.get_or_none(Flow.id == flow_id) or abort(404)
    with database.atomic():
        flow.delete_instance()
        audit.record("ivr.flow.deleted", f"{flow.name} ({flow.number})", {"flow_id": flow_id})
    flash(f"フロー「{flow.name}」を削除しました。通話記録は残ります。", "success")
    return redirect(url_for("ivr.flows"))


# --- PB menus: 入力指示ルーティング変更 (R-13) -------------------------------------------------------------------
@routes.route("/menus")
@role_required("staff")
def menus():
    q = request.args.get("q", "").strip()
    query = (Node.select(Node, Flow).join(Flow).where(Node.kind == "menu").order_by(Flow.number, Node.position))
    if q:
        query = query.where(Node.name.contains(q) | Node.key.contains(q) | Flow.name.contains(q)
                            | Flow.number.contains(phone.search_term(q)))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    labels = dict(guidance_public.guidance_choices())
    return render_template("ivr/menus.html", page=page, q=q, labels=labels)


@routes.route("/menus/<int:node_id>", methods=["GET", "POST"])
@role_required("staff")
def menu_detail(node_id: int):
    node = (Node.select(Node, Flow).join(Flow).where((Node.id == node_id) & (Node.kind == "menu")).first()
            or abort(404))
    flow = node.flow
    spec = flow.spec()
    defaults = forms.editor_defaults()
    row = forms.row_from_spec(spec.nodes[node.key], 0, defaults)
    errors: list[str] = []
    if request.method == "POST":
        row = forms.row_from_form(request.form, "", 0, defaults, base=row)
        changed, errors = forms.node_from_row(row)
        if not errors:
            new_spec = FlowSpec(entry=spec.entry, nodes={k: (changed if k == node.key else n)
                                                          for k, n in spec.nodes.items()})
            try:
                save_and_audit(new_spec, action="ivr.menu.updated", name=flow.name, number=flow.number,
                               description=flow.description, flow=flow, actor=current_user.username,
                               detail={"flow_id": flow.id, "menu": node.key,
                                       "before": menu_fields(spec.nodes[node.key]), "after": menu_fields(changed)})
                flash(f"入力指示ルーティング「{changed.label}」を保存しました。", "success")
                return redirect(url_for("ivr.menu_detail", node_id=node.id))
            except FlowInvalid as exc:
                errors = exc.errors
    targets = [(key, n.label) for key, n in spec.nodes.items() if key != node.key]
    return render_template("ivr/menu_detail.html", node=node, flow=flow, row=row, errors=errors, targets=targets,
                           diagram=flow_diagram(spec), **choices()), (400 if errors else 200)


def menu_fields(node: NodeSpec) -> dict:
    return {"name": node.name, "guidance": node.guidance, "timeout_guidance": node.timeout_guidance,
            "mis_entry_guidance": node.mis_entry_guidance, "digits": node.digits, "timeout": node.timeout,
            "max_tries": node.max_tries, "max_mis_entries": node.max_mis_entries, "exits": dict(node.exits)}


# --- caller rules (R-09a) -----------------------------------------------------------------------------------------
@routes.route("/callers", methods=["GET", "POST"])
@role_required("staff")
def callers():
    form = request.form if request.method == "POST" else {}
    errors: list[str] = []
    if request.method == "POST":
        values, errors = caller_rule_input(form)
        if not errors:
            rule = CallerRule.create(**values)
            audit.record("ivr.caller_rule.created", rule.number,
                         {"action": rule.action, "flow_id": rule.flow_id, "node": rule.node_key, "note": rule.note})
            flash("発信者番号の設定を追加しました。", "success")
            return redirect(url_for("ivr.callers"))
    q = request.args.get("q", "").strip()
    query = CallerRule.select().order_by(CallerRule.number, CallerRule.id)
    if q:
        query = query.where(CallerRule.number.contains(phone.search_term(q)) | CallerRule.note.contains(q))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    flows_list = list(Flow.select().order_by(Flow.number))
    targets = [(f"{fl.id}:{n.key}", f"{fl.name} › {n.label}") for fl in flows_list for n in fl.ordered_nodes()]
    names = {fl.id: fl.name for fl in flows_list}
    return render_template("ivr/callers.html", page=page, q=q, form=form, errors=errors, flows=flows_list,
                           targets=targets, flow_names=names,
                           incomplete=incomplete_rules(page.items)), (400 if errors else 200)


def incomplete_rules(rules) -> set[int]:
    """Rules saved before numbers had to be complete (090-1234-56): they match no caller, so the list says so."""
    return {rule.id for rule in rules if rule.number != "withheld" and not phone.is_complete(rule.number)}


def caller_rule_input(form) -> tuple[dict, list[str]]:
    """The rule the form describes, or Japanese errors naming the field."""
    errors = []
    withheld = bool(form.get("withheld"))
    raw = form.get("number", "").strip()
    number, problem = ("withheld", None) if withheld else phone.parse_entry(raw, "発信者番号")
    if not withheld and not raw:
        errors.append("発信者番号を入力するか、「非通知」を選んでください。")
    elif problem:
        errors.append(problem)
    action = form.get("action", "")
    flow_id, node_key = None, ""
    if action == "block":
        scope = form.get("block_flow", "")
        if scope:
            wanted = int_or(scope, 0)
            flow_id = wanted if wanted and Flow.get_or_none(Flow.id == wanted) else None
            if flow_id is None:
                errors.append("着信拒否の対象フローが見つかりません。")
    elif action == "route":
        target = form.get("target", "")
        flow_part, _, node_key = target.partition(":")
        node = Node.get_or_none((Node.flow == int_or(flow_part, 0)) & (Node.key == node_key))
        if node is None:
            errors.append("振り分け先のノードを選んでください。")
        else:
            flow_id = node.flow_id
    else:
        errors.append("動作（着信拒否 / 振り分け）を選んでください。")
    note = form.get("note", "").strip()
    if len(note) > 200:
        errors.append("メモは 200 文字以内にしてください。")
    if not errors and CallerRule.select().where((CallerRule.number == number) & (
            CallerRule.flow.is_null() if flow_id is None else CallerRule.flow == flow_id)).exists():
        errors.append("同じ発信者番号・同じフローの設定が既にあります。先に削除してください。")
    return dict(number=number, action=action, flow=flow_id, node_key=node_key, note=note), errors


@routes.route("/callers/<int:rule_id>/delete", methods=["POST"])
@role_required("staff")
def caller_delete(rule_id: int):
    rule = CallerRule.get_or_none(CallerRule.id == rule_id) or abort(404)
    rule.delete_instance()
    audit.record("ivr.caller_rule.deleted", rule.number, {"action": rule.action, "flow_id": rule.flow_id})
    flash("発信者番号の設定を削除しました。", "success")
    return redirect(url_for("ivr.callers"))

