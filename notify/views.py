"""通知先 (destinations staff set up) and 通知の送信履歴 (the delivery log, with resend)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from peewee import fn

from core import audit, clock
from core.config import setting
from core.db import database
from core.events import KINDS
from core.inputs import int_or
from core.pagination import paginate
from core.security import role_required
from notify import outbox
from notify.forms import TARGET_LABELS, destination_input
from notify.messages import EVENT_LABELS
from notify.models import KIND_LABELS, STATE_LABELS, Delivery, Destination, Event

bp = Blueprint("notify", __name__, url_prefix="/notify", template_folder="templates")


def form_context(**extra) -> dict:
    return dict(kinds=KIND_LABELS, event_kinds=[(k, EVENT_LABELS[k]) for k in KINDS],
                event_labels=EVENT_LABELS, target_labels=TARGET_LABELS, **extra)


@bp.route("/")
@role_required("staff")
def destinations():
    rows = list(Destination.select().order_by(Destination.name, Destination.id))
    waiting = dict(Delivery.select(Delivery.destination, fn.COUNT(Delivery.id)).where(
        Delivery.state.in_(("pending", "claimed", "sending"))).group_by(Delivery.destination).tuples())
    return render_template("notify/destinations.html", rows=rows, waiting=waiting, **form_context())


@bp.route("/new", methods=["GET", "POST"])
@role_required("staff")
def destination_new():
    form = request.form if request.method == "POST" else {"events": list(KINDS)}
    errors: list[str] = []
    if request.method == "POST":
        values, errors = destination_input(request.form)
        if not errors:
            destination = Destination.create(**values, updated_by=current_user.username)
            audit.record("notify.destination.created", destination.name,
                         {"destination_kind": destination.kind, "events": destination.event_kinds()})
            flash(f"通知先「{destination.name}」を追加しました。「テスト送信」で届くか確かめてください。", "success")
            return redirect(url_for("notify.destination_edit", destination_id=destination.id))
    return render_template("notify/destination_form.html", form=form, errors=errors, destination=None,
                           chosen=chosen_events(form), **form_context()), (400 if errors else 200)


@bp.route("/<int:destination_id>", methods=["GET", "POST"])
@role_required("staff")
def destination_edit(destination_id: int):
    destination = Destination.get_or_none(Destination.id == destination_id) or abort(404)
    form = request.form if request.method == "POST" else {
        "name": destination.name, "kind": destination.kind, "target": destination.target,
        "quiet_start": destination.quiet_start, "quiet_end": destination.quiet_end}
    errors: list[str] = []
    if request.method == "POST":
        values, errors = destination_input(request.form, destination)
        if not errors:
            Destination.update(**values, updated_at=clock.now(), updated_by=current_user.username).where(
                Destination.id == destination.id).execute()
            audit.record("notify.destination.updated", values["name"],
                         {"destination_kind": values["kind"], "events": values["events"].split(","),
                          "quiet": f"{values['quiet_start']}-{values['quiet_end']}" if values["quiet_start"] else ""})
            flash(f"通知先「{values['name']}」を保存しました。", "success")
            return redirect(url_for("notify.destination_edit", destination_id=destination.id))
    chosen = chosen_events(form) if request.method == "POST" else destination.event_kinds()
    recent = (Delivery.select(Delivery, Event).join(Event).where(Delivery.destination == destination.id)
              .order_by(Delivery.id.desc()).limit(10))
    return render_template("notify/destination_form.html", form=form, errors=errors, destination=destination,
                           chosen=chosen, recent=list(recent), states=STATE_LABELS,
                           **form_context()), (400 if errors else 200)


def chosen_events(form) -> list[str]:
    if hasattr(form, "getlist"):
        return form.getlist("events")
    return list(form.get("events", []))


def act_on_destination(destination_id: int, action, done: str) -> Destination:
    """One staff action on a destination, audited as notify.destination.<done> in the same transaction."""
    destination = Destination.get_or_none(Destination.id == destination_id) or abort(404)
    with database.atomic():
        action(destination)
        audit.record(f"notify.destination.{done}", destination.name, {"destination_kind": destination.kind})
    return destination


def remove_destination(destination: Destination) -> None:
    Delivery.delete().where(Delivery.destination == destination.id).execute()
    destination.delete_instance()


@bp.route("/<int:destination_id>/delete", methods=["POST"])
@role_required("staff")
def destination_delete(destination_id: int):
    destination = act_on_destination(destination_id, remove_destination, "deleted")
    flash(f"通知先「{destination.name}」を削除しました。", "success")
    return redirect(url_for("notify.destinations"))


@bp.route("/<int:destination_id>/test", methods=["POST"])
@role_required("staff")
def destination_test(destination_id: int):
    destination = act_on_destination(destination_id, outbox.queue_test, "tested")
    flash(f"通知先「{destination.name}」へのテスト通知を送信待ちにしました。数秒後に下の送信履歴で結果を確認できます。",
          "success")
    return redirect(url_for("notify.destination_edit", destination_id=destination.id))


@bp.route("/<int:destination_id>/resume", methods=["POST"])
@role_required("staff")
def destination_resume(destination_id: int):
    destination = act_on_destination(destination_id, outbox.resume, "resumed")
    flash(f"通知先「{destination.name}」への送信を再開しました。", "success")
    return redirect(request.form.get("back") == "edit" and url_for("notify.destination_edit",
                                                                    destination_id=destination.id)
                    or url_for("notify.destinations"))


# --- the delivery log -------------------------------------------------------------------------------------------
@bp.route("/log")
@role_required("manager")
def log():
    """Who may see it: managers and admins (the notifications name callers and recipients)."""
    destination_id = int_or(request.args.get("destination"), 0)
    state = request.args.get("state", "")
    query = (Delivery.select(Delivery, Event, Destination).join(Event).switch(Delivery).join(Destination)
             .order_by(Delivery.id.desc()))
    if destination_id:
        query = query.where(Delivery.destination == destination_id)
    if state in STATE_LABELS:
        query = query.where(Delivery.state == state)
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    return render_template("notify/log.html", page=page, states=STATE_LABELS, state=state,
                           destination_id=destination_id, event_labels=EVENT_LABELS,
                           destinations=list(Destination.select().order_by(Destination.name)),
                           titles={d.id: outbox.outgoing_for(d).notice.title for d in page.items})


@bp.route("/log/<int:delivery_id>/resend", methods=["POST"])
@role_required("manager")
def delivery_resend(delivery_id: int):
    delivery = Delivery.get_or_none(Delivery.id == delivery_id) or abort(404)
    with database.atomic():
        done = outbox.resend(delivery)
        if done:
            audit.record("notify.delivery.resent", delivery.destination.name, {"delivery_id": delivery.id})
    flash("通知を送信待ちに戻しました。" if done else "この通知は再送できる状態ではありません。",
          "success" if done else "info")
    return redirect(url_for("notify.log"))
