"""Bulk-send pages, in the seed's order: recipients → messages → confirm → detail (progress, history, resend).

Views only read the request, call sms.bulk.sends / history, and render; a refusal re-renders the form with the
user's input and a Japanese message.
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, clock, phone
from core.config import ROOT, setting
from core.csvfile import ENCODINGS, csv_download
from core.inputs import InputError, parse_date, parse_int
from core.pagination import paginate
from core.security import role_required
from sms import tickets
from sms.bulk import history, sends
from sms.bulk.models import MAX_MESSAGES, SKIP_KINDS, BulkSend
from sms.bulk.recipients import CsvError, parse_pasted, read_csv
from sms.sending import placeholder_expansions

bp = Blueprint("bulk", __name__, url_prefix="/bulk", template_folder="templates")

UPLOAD_DIR = ROOT / "var" / "bulk_uploads"
MAX_CALLERS_SHOWN = 2000


def actor() -> str:
    return current_user.username


def get_send(send_id: int) -> BulkSend:
    send = BulkSend.get_or_none(BulkSend.id == send_id)
    if send is None:
        abort(404)
    return send


# --- history ------------------------------------------------------------------------------------------------------
@bp.get("/")
@role_required("manager")
def index():
    status = request.args.get("status") or None
    page = paginate(history.sends_query(status), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/index.html", page=page, status=status, tickets_enabled=setting("sms.tickets_enabled"),
                           balance=tickets.balance())


# --- step 1: recipients ---------------------------------------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
@role_required("manager")
def new_send():
    return recipients_step(None)


@bp.route("/<int:send_id>/recipients", methods=["GET", "POST"])
@role_required("manager")
def edit_recipients(send_id: int):
    send = get_send(send_id)
    if not send.editable or send.source == "resend":
        flash("この一括配信の配信先は変更できません。", "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    return recipients_step(send)


def recipients_step(send: BulkSend | None):
    (since, until), period_errors = caller_period()
    callers = sends.caller_numbers(since, until)
    shown = [(number, phone.display(number)) for number in callers[:MAX_CALLERS_SHOWN]]
    context = {"send": send, "callers": shown, "callers_total": len(callers),
               "since": request.values.get("since", "").strip(), "until": request.values.get("until", "").strip(),
               "source": request.values.get("source", "csv"), "pasted": request.form.get("pasted", ""),
               "columns": [], "column": "", "upload_token": "", "upload_name": "", "errors": period_errors,
               # the ticks the user left, kept when the page comes back with an error (None: first view, all ticked)
               "chosen": request.form.getlist("caller") if request.form.get("source") == "callers" else None}
    if request.method == "GET":
        return render_template("bulk/recipients.html", **context), (400 if period_errors else 200)
    try:
        candidates, detail, broken, empty = read_recipient_input(context)
        found = sends.build_recipients(candidates)
        if send is None:
            send = sends.create_draft(found, source=context["source"], actor=actor(), source_detail=detail,
                                      broken=broken, empty=empty)
            audit.record("bulk.draft_created", send.label, {"recipients": send.recipient_count, "source": send.source})
        else:
            send = sends.replace_recipients(send, found, source=context["source"], actor=actor(),
                                            source_detail=detail, broken=broken, empty=empty)
    except (CsvError, sends.BulkError) as error:
        context["errors"] = error.errors if isinstance(error, sends.BulkError) else [error.message]
        return render_template("bulk/recipients.html", **context), 400
    discard_upload(context["upload_token"])
    flash(summary_sentence(send), "success")
    return redirect(url_for("bulk.messages", send_id=send.id))


def read_recipient_input(context: dict):
    """Candidates from the chosen source, a description of it, and the CSV rows that could not be used."""
    source = context["source"]
    if source == "callers":
        chosen = request.form.getlist("caller")
        if not chosen:
            raise sends.BulkError("着信履歴から配信する電話番号を 1 件以上選んでください。")
        return parse_pasted("\n".join(chosen)), f"着信履歴から {len(chosen)} 件を選択", [], []
    if source == "paste":
        if not context["pasted"].strip():
            raise sends.BulkError("電話番号を貼り付けてください（1 行に 1 件）。")
        return parse_pasted(context["pasted"]), "電話番号の貼り付け", [], []
    if source != "csv":
        raise sends.BulkError("配信先の指定方法を選んでください。")
    data, name = uploaded_csv(context)
    context["column"] = request.form.get("column", "")
    try:
        table = read_csv(data, context["column"] or None)
    except CsvError as error:
        if error.columns:  # keep the file, so choosing a column does not mean uploading it again
            context["columns"] = error.columns
            context["upload_token"] = context["upload_token"] or keep_upload(data)
        raise
    detail = f"{name}（{table.encoding_label}、{table.column_label}）"
    return table.candidates, detail, table.broken, table.skipped


def uploaded_csv(context: dict) -> tuple[bytes, str]:
    upload = request.files.get("csv_file")
    token = request.form.get("upload_token", "")
    name = request.form.get("upload_name", "")
    if upload and upload.filename:
        context["upload_name"] = upload.filename
        return upload.read(), upload.filename
    if token:
        path = upload_path(token)
        if path and path.exists():
            context["upload_token"], context["upload_name"] = token, name
            return path.read_bytes(), name or "CSV"
    raise sends.BulkError("CSV ファイルを選んでください。")


def upload_path(token: str) -> Path | None:
    if not token.isalnum():
        return None
    return UPLOAD_DIR / f"{token}.csv"


def keep_upload(data: bytes) -> str:
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    (UPLOAD_DIR / f"{token}.csv").write_bytes(data)
    return token


def discard_upload(token: str) -> None:
    path = upload_path(token) if token else None
    if path and path.exists():
        path.unlink()


def purge_uploads(before: dt.datetime) -> int:
    """Uploaded files kept for a column choice that never came, written before `before` (bulk retention)."""
    if not UPLOAD_DIR.exists():
        return 0
    old = [p for p in UPLOAD_DIR.glob("*.csv") if clock.from_timestamp(p.stat().st_mtime) < before]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)


def summary_sentence(send: BulkSend) -> str:
    parts = [f"配信先 {send.recipient_count:,} 件"]
    for label, count in (("重複", send.duplicate_count), ("携帯電話番号ではない", send.invalid_count),
                         ("配信停止", send.optout_count), ("読み取れない行", send.broken_count)):
        if count:
            parts.append(f"{label} {count:,} 件")
    return "、".join(parts) + "。"


def caller_period() -> tuple[tuple[dt.date | None, dt.date | None], list[str]]:
    """The caller list's period (since, until); a day that cannot be used is left out and explained."""
    days, errors = [], []
    for key, label in (("since", "期間（から）"), ("until", "期間（まで）")):
        try:
            days.append(parse_date(request.values.get(key), label))
        except InputError as error:
            days.append(None)
            errors.append(error.message)
    return (days[0], days[1]), errors


# --- step 2: messages and schedule, step 3: confirm ------------------------------------------------------------------
@bp.route("/<int:send_id>/messages", methods=["GET", "POST"])
@role_required("manager")
def messages(send_id: int):
    send = get_send(send_id)
    if not send.editable:
        flash(f"この一括配信は「{send.status_label}」のため変更できません。", "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    if request.method == "GET":
        return render_messages(send, form_from_send(send), [])
    form, errors = form_from_request()
    if not errors:
        errors = ticket_problems(send, form)
    if errors:
        return render_messages(send, form, errors), 400
    return render_confirm(send, form)


@bp.post("/<int:send_id>/confirm")
@role_required("manager")
def confirm(send_id: int):
    send = get_send(send_id)
    form, errors = form_from_request()
    if request.form.get("back") or errors:
        return render_messages(send, form, errors), (400 if errors else 200)
    try:
        send = sends.confirm(send_id, form, actor())
    except sends.BulkError as error:
        return render_messages(send, form, error.errors), 400
    if send.immediate:
        flash(f"{send.label} の配信を開始しました（{send.recipient_count:,} 件）。", "success")
    else:
        flash(f"{send.label} を {send.scheduled_at:%Y-%m-%d %H:%M} に配信予約しました（{send.recipient_count:,} 件）。",
              "success")
    return redirect(url_for("bulk.detail", send_id=send_id))


def form_from_request():
    return sends.read_message_form(
        request.form.getlist("message"), request.form.getlist("box"), schedule=bool(request.form.get("schedule")),
        scheduled_text=request.form.get("scheduled_at", ""), title=request.form.get("title", ""))


def form_from_send(send: BulkSend) -> sends.MessageForm:
    texts = send.messages or [""]
    boxes = send.boxes or [None]
    scheduled = send.scheduled_at if send.status == "scheduled" and not send.immediate else None
    return sends.MessageForm(texts=list(texts), boxes=list(boxes) + [None] * (len(texts) - len(boxes)),
                             immediate=scheduled is None, scheduled_at=scheduled, title=send.title,
                             scheduled_text=f"{scheduled:%Y-%m-%dT%H:%M}" if scheduled else "")


def ticket_problems(send: BulkSend, form: sends.MessageForm) -> list[str]:
    """R-44 checked on the message screen already, so nobody reaches the confirm screen for nothing."""
    try:
        sends.refuse_if_short(needed_tickets(send, form))
    except sends.BulkError as error:
        return error.errors
    return []


def needed_tickets(send: BulkSend, form: sends.MessageForm) -> int:
    if send.source == "resend":
        return send.slot_count
    return send.recipient_count * len(form.texts)


def render_messages(send: BulkSend, form: sends.MessageForm, errors: list[str]):
    expansions = placeholder_expansions("x")
    return render_template(
        "bulk/messages.html", send=send, form=form, errors=errors, boxes=box_details(),
        max_messages=MAX_MESSAGES, max_length=setting("sms.max_length"),
        url_placeholder=setting("sms.url_placeholder"), optout_placeholder=setting("sms.optout_placeholder"),
        url_length=expansions[setting("sms.url_placeholder")],
        optout_length=expansions[setting("sms.optout_placeholder")],
        fixed_count=send.source == "resend", tickets_enabled=setting("sms.tickets_enabled"),
        balance=tickets.balance(), now=clock.now())


def render_confirm(send: BulkSend, form: sends.MessageForm):
    checks = [sends.check_template(text, box_url(box)) for text, box in zip(form.texts, form.boxes)]
    return render_template(
        "bulk/confirm.html", send=send, form=form, checks=checks, numbers=history.preview_numbers(send.id),
        needed=needed_tickets(send, form), tickets_enabled=setting("sms.tickets_enabled"), balance=tickets.balance(),
        skipped_counts=skipped_counts(send))


def box_details() -> list[dict]:
    from sms.models import StorageBox

    return [{"number": b.number, "label": b.label, "body": b.body, "url": b.url}
            for b in StorageBox.select().order_by(StorageBox.number)]


def box_url(number: int | None) -> str | None:
    from sms.models import StorageBox

    box = StorageBox.get_or_none(StorageBox.number == number) if number is not None else None
    return box.url if box and box.url else None


def skipped_counts(send: BulkSend) -> list[tuple[str, str, int]]:
    counts = [("duplicate", send.duplicate_count), ("invalid", send.invalid_count), ("optout", send.optout_count),
              ("broken", send.broken_count)]
    return [(kind, SKIP_KINDS[kind], count) for kind, count in counts if count]


# --- detail, progress, actions ---------------------------------------------------------------------------------------
@bp.get("/<int:send_id>")
@role_required("manager")
def detail(send_id: int):
    send = get_send(send_id)
    only_failed = request.args.get("failed") == "1"
    page = paginate(history.recipients_query(send_id, only_failed), request.args.get("page"), setting("web.page_size"))
    rows = [history.recipient_view(row, len(send.messages)) for row in page.items]
    return render_template("bulk/detail.html", send=send, page=page, rows=rows, only_failed=only_failed,
                           encodings=ENCODINGS,
                           progress=history.progress_of(send_id), skipped_counts=skipped_counts(send),
                           resend_of=BulkSend.get_or_none(BulkSend.id == send.resend_of) if send.resend_of else None)


@bp.get("/<int:send_id>/progress")
@role_required("manager")
def progress(send_id: int):
    send = get_send(send_id)
    return jsonify(progress_payload(send))


def progress_payload(send: BulkSend) -> dict:
    return {"id": send.id, "status": send.status, "status_label": send.status_label,
            "progress": history.progress_of(send.id).as_dict()}


@bp.get("/<int:send_id>/skipped")
@role_required("manager")
def skipped(send_id: int):
    send = get_send(send_id)
    kind = request.args.get("kind") or None
    page = paginate(history.skipped_query(send_id, kind), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/skipped.html", send=send, page=page, kind=kind, kinds=SKIP_KINDS, encodings=ENCODINGS,
                           skipped_counts=skipped_counts(send))


@bp.get("/<int:send_id>/recipients.csv")
@role_required("manager")
def recipients_csv(send_id: int):
    send = get_send(send_id)
    count = len(send.messages)
    only_failed = request.args.get("failed") == "1"
    name = f"一括配信{send.id}_{'配信エラー' if only_failed else '配信先'}.csv"
    return csv_download(name, history.recipients_header(count), history.recipient_csv_rows(send.id, count, only_failed),
                        request.args.get("encoding"))


@bp.get("/<int:send_id>/skipped.csv")
@role_required("manager")
def skipped_csv(send_id: int):
    send = get_send(send_id)
    kind = request.args.get("kind") or None
    return csv_download(f"一括配信{send.id}_スキップ.csv", history.SKIPPED_HEADER,
                        history.skipped_csv_rows(send.id, kind), request.args.get("encoding"))


@bp.get("/<int:send_id>/failed.txt")
@role_required("manager")
def failed_numbers(send_id: int):
    get_send(send_id)
    body = "\n".join(phone.display(n) for n in sends.failed_numbers(send_id))
    return Response(body + ("\n" if body else ""), mimetype="text/plain; charset=utf-8")


@bp.post("/<int:send_id>/cancel")
@role_required("manager")
def cancel(send_id: int):
    try:
        send = sends.cancel(send_id, actor())
    except sends.BulkError as error:
        flash(" ".join(error.errors), "error")
    else:
        flash(f"{send.label} を取り消しました。", "success")
    return redirect(url_for("bulk.detail", send_id=send_id))


@bp.post("/<int:send_id>/resend")
@role_required("manager")
def resend(send_id: int):
    try:
        draft = sends.resend_failures(send_id, actor())
    except sends.BulkError as error:
        flash(" ".join(error.errors), "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    flash(f"配信エラーになった {draft.recipient_count:,} 件の再送を作成しました。内容を確認して配信してください。", "success")
    return redirect(url_for("bulk.messages", send_id=draft.id))


# --- tickets --------------------------------------------------------------------------------------------------------
@bp.route("/tickets", methods=["GET", "POST"], endpoint="tickets")
@role_required("manager")
def tickets_page():
    errors, values = [], {"count": "", "reason": ""}
    if request.method == "POST":
        if not current_user.has_role("admin"):
            abort(403)
        values = {"count": request.form.get("count", "").strip(), "reason": request.form.get("reason", "").strip()}
        errors = add_tickets(values)
        if not errors:
            flash(f"チケットを {int(values['count']):+,} 枚登録しました（残り {tickets.balance():,} 枚）。", "success")
            return redirect(url_for("bulk.tickets"))
    page = paginate(tickets.entries(), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/tickets.html", page=page, balance=tickets.balance(), errors=errors, values=values,
                           tickets_enabled=setting("sms.tickets_enabled")), (400 if errors else 200)


def add_tickets(values: dict) -> list[str]:
    """An admin adds (or corrects) tickets; every entry says who and why."""
    errors = []
    try:
        count = parse_int(values["count"], "枚数", minimum=-tickets.MAX_BALANCE, maximum=tickets.MAX_BALANCE,
                          required=True)
    except InputError as error:
        count = 0
        errors.append(error.message)
    if not errors and count == 0:
        errors.append("枚数に 0 は指定できません。")
    if not values["reason"]:
        errors.append("理由を入力してください（例: 3 月分購入）。")
    if errors:
        return errors
    try:
        after = tickets.add(count, reason=values["reason"][:200], actor=actor())
    except ValueError:
        if count > 0:
            return [f"残り枚数は {tickets.MAX_BALANCE:,} 枚までです（現在 {tickets.balance():,} 枚）。"]
        return [f"残り枚数（{tickets.balance():,} 枚）より多くは減らせません。"]
    audit.record("tickets.added", "tickets", {"count": count, "reason": values["reason"], "balance": after})
    return []

