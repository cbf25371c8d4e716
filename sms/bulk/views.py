"""Bulk-send pages, in the seed's order: recipients → messages → confirm → detail (progress, history, resend).

Thin views: each reads the request, calls a service (sms.bulk.intake for recipients, sms.bulk.compose and
sms.bulk.sends for messages and confirmation, sms.bulk.history for reading back), and renders. A refusal
re-renders the form with the user's input and a Japanese message. The tickets page is sms.bulk.ticket_views.
"""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from core import phone
from core.config import setting
from core.csvfile import ENCODINGS, csv_download
from core.inputs import InputError, parse_date
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from sms import tickets
from sms.bulk import compose, history, intake, sends
from sms.bulk.models import SKIP_KINDS, BulkSend

routes = Routes()

MAX_CALLERS_SHOWN = 2000
TEST_NUMBER_KEY = "bulk_test_number"  # the user's own number for 「自分にテスト送信」, offered again next time


def actor() -> str:
    return current_user.username


def get_send(send_id: int) -> BulkSend:
    send = BulkSend.get_or_none(BulkSend.id == send_id)
    if send is None:
        abort(404)
    return send


# --- history ------------------------------------------------------------------------------------------------------
@routes.route("/", methods=["GET"])
@role_required("manager")
def index():
    status = request.args.get("status") or None
    page = paginate(history.sends_query(status), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/index.html", page=page, shown=history.shown_statuses(list(page.items)),
                           status=status, tickets_enabled=setting("sms.tickets_enabled"), balance=tickets.balance())


# --- step 1: recipients ---------------------------------------------------------------------------------------------
@routes.route("/new", methods=["GET", "POST"])
@role_required("manager")
def new_send():
    return recipients_step(None)


@routes.route("/<int:send_id>/recipients", methods=["GET", "POST"])
@role_required("manager")
def edit_recipients(send_id: int):
    send = get_send(send_id)
    if not send.editable or send.source == "resend":
        flash("この一括配信の配信先は変更できません。", "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    return recipients_step(send)


def recipients_step(send: BulkSend | None):
    (since, until), period_errors = caller_period()
    if request.method == "GET":
        return render_recipients(send, since, until, intake.Intake(errors=tuple(period_errors)), None)
    entry = recipient_entry()
    result = intake.take_recipients(entry, send, actor())
    if not result.ok:
        return render_recipients(send, since, until, result, entry)
    flash(intake.summary_sentence(result.send), "success")
    return redirect(url_for("bulk.messages", send_id=result.send.id))


def recipient_entry() -> intake.RecipientEntry:
    upload = request.files.get("csv_file")
    has_file = bool(upload and upload.filename)
    return intake.RecipientEntry(
        source=request.form.get("source", "csv"), pasted=request.form.get("pasted", ""),
        chosen=tuple(request.form.getlist("caller")), column=request.form.get("column", ""),
        file_data=upload.read() if has_file else None, file_name=upload.filename if has_file else "",
        upload_token=request.form.get("upload_token", ""), upload_name=request.form.get("upload_name", ""))


def render_recipients(send: BulkSend | None, since: dt.date | None, until: dt.date | None, result: intake.Intake,
                      entry: intake.RecipientEntry | None):
    """The recipient form: the caller list of the period, and the user's input kept after a refusal."""
    callers = sends.caller_numbers(since, until)
    shown = [(number, phone.display(number)) for number in callers[:MAX_CALLERS_SHOWN]]
    entry = entry or intake.RecipientEntry(source=request.values.get("source", "csv"))
    return render_template(
        "bulk/recipients.html", send=send, callers=shown, callers_total=len(callers),
        since=request.values.get("since", "").strip(), until=request.values.get("until", "").strip(),
        source=entry.source, pasted=entry.pasted, columns=list(result.columns), column=entry.column,
        upload_token=result.upload_token, upload_name=result.upload_name, errors=list(result.errors),
        # the ticks the user left, kept when the page comes back with an error (None: first view, all ticked)
        chosen=list(entry.chosen) if entry.source == "callers" and request.method == "POST" else None,
    ), (400 if result.errors else 200)


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
@routes.route("/<int:send_id>/messages", methods=["GET", "POST"])
@role_required("manager")
def messages(send_id: int):
    send = get_send(send_id)
    if not send.editable:
        flash(f"この一括配信は「{send.status_label}」のため変更できません。", "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    if request.method == "GET":
        return render_messages(send, compose.form_from_send(send), [])
    form, errors = form_from_request(send)
    if not errors:
        errors = compose.ticket_problems(send, form)
    if errors:
        return render_messages(send, form, errors), 400
    return render_confirm(send, form)


@routes.route("/<int:send_id>/confirm", methods=["POST"])
@role_required("manager")
def confirm(send_id: int):
    send = get_send(send_id)
    form, errors = form_from_request(send)
    if request.form.get("back") or errors:
        return render_messages(send, form, errors), (400 if errors else 200)
    try:
        send = sends.confirm(send_id, form, actor())
    except sends.BulkError as error:
        return render_messages(send, form, error.errors), 400
    if send.immediate:
        flash(f"{send.label} の配信を開始しました（配信先 {send.recipient_count:,} 名）。", "success")
    else:
        flash(f"{send.label} を {send.scheduled_at:%Y-%m-%d %H:%M} に配信予約しました（配信先 {send.recipient_count:,} 名）。",
              "success")
    return redirect(url_for("bulk.detail", send_id=send_id))


@routes.route("/<int:send_id>/test", methods=["POST"])
@role_required("manager")
def test_send(send_id: int):
    """「自分にテスト送信」 on the confirm screen: the messages to the user's own phone; the screen comes back."""
    send = get_send(send_id)
    form, errors = form_from_request(send)
    if errors:
        return render_messages(send, form, errors), 400
    raw = request.form.get("test_number", "")
    result = compose.send_test(send, form, raw, actor())
    if result.ok:
        session[TEST_NUMBER_KEY] = raw.strip()[:40]
        flash(f"{result.number} 宛にテスト送信しました（{len(result.message_ids)} 件）。届いた SMS を確認してから配信してください。",
              "success")
    return render_confirm(send, form, test=result), (200 if result.ok else 400)


def form_from_request(send: BulkSend):
    return sends.read_message_form(
        request.form.getlist("message"), request.form.getlist("box"), schedule=bool(request.form.get("schedule")),
        scheduled_text=request.form.get("scheduled_at", ""), title=request.form.get("title", ""),
        field_names=send.merge_fields)


def render_messages(send: BulkSend, form: sends.MessageForm, errors: list[str]):
    return render_template("bulk/messages.html", send=send, form=form, errors=errors,
                           **vars(compose.message_screen(send)))


def render_confirm(send: BulkSend, form: sends.MessageForm, test: compose.TestSend | None = None):
    number = test.number if test and not test.ok else session.get(TEST_NUMBER_KEY, "")
    return render_template("bulk/confirm.html", send=send, form=form, test=test, test_number=number,
                           **vars(compose.confirm_screen(send, form)))


# --- detail, progress, actions ---------------------------------------------------------------------------------------

@routes.route("/<int:send_id>", methods=["GET"])
@role_required("manager")
def detail(send_id: int):
    send = get_send(send_id)
    live = history.live_view(send, request.args.get("page"), request.args.get("failed") == "1")
    return render_template("bulk/detail.html", send=send, page=live.page, rows=live.rows, only_failed=live.only_failed,
                           encodings=ENCODINGS, progress=live.progress, shown=live.shown,
                           skipped_counts=compose.skipped_counts(send),
                           resend_of=BulkSend.get_or_none(BulkSend.id == send.resend_of) if send.resend_of else None)


@routes.route("/<int:send_id>/progress", methods=["GET"])
@role_required("manager")
def progress(send_id: int):
    """The detail page's live part (polled): figures, the state as shown, and the actions and recipient rows of
    the page being read, rendered as on the page, so buttons and rows follow the send without a reload."""
    send = get_send(send_id)
    live = history.live_view(send, request.args.get("page"), request.args.get("failed") == "1")
    return jsonify({
        "id": send.id, "status": send.status, "shown_status": live.shown.status, "status_label": live.shown.label,
        "progress": live.progress.as_dict(),
        "actions_html": render_template("bulk/_detail_actions.html", send=send, progress=live.progress),
        "rows_html": render_template("bulk/_recipient_rows.html", rows=live.rows),
    })


@routes.route("/<int:send_id>/skipped", methods=["GET"])
@role_required("manager")
def skipped(send_id: int):
    send = get_send(send_id)
    kind = request.args.get("kind") or None
    page = paginate(history.skipped_query(send_id, kind), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/skipped.html", send=send, page=page, kind=kind, kinds=SKIP_KINDS, encodings=ENCODINGS,
                           skipped_counts=compose.skipped_counts(send))


@routes.route("/<int:send_id>/recipients.csv", methods=["GET"])
@role_required("manager")
def recipients_csv(send_id: int):
    send = get_send(send_id)
    count = len(send.messages)
    only_failed = request.args.get("failed") == "1"
    name = f"一括配信{send.id}_{'配信エラー' if only_failed else '配信先'}.csv"
    return csv_download(name, history.recipients_header(count), history.recipient_csv_rows(send.id, count, only_failed),
                        request.args.get("encoding"))


@routes.route("/<int:send_id>/skipped.csv", methods=["GET"])
@role_required("manager")
def skipped_csv(send_id: int):
    send = get_send(send_id)
    kind = request.args.get("kind") or None
    return csv_download(f"一括配信{send.id}_スキップ.csv", history.SKIPPED_HEADER,
                        history.skipped_csv_rows(send.id, kind), request.args.get("encoding"))


@routes.route("/<int:send_id>/failed.txt", methods=["GET"])
@role_required("manager")
def failed_numbers(send_id: int):
    get_send(send_id)
    body = "\n".join(phone.display(n) for n in sends.failed_numbers(send_id))
    return Response(body + ("\n" if body else ""), mimetype="text/plain; charset=utf-8")


@routes.route("/<int:send_id>/cancel", methods=["POST"])
@role_required("manager")
def cancel(send_id: int):
    try:
        send = sends.cancel(send_id, actor())
    except sends.BulkError as error:
        flash(" ".join(error.errors), "error")
    else:
        flash(f"{send.label} を取り消しました。", "success")
    return redirect(url_for("bulk.detail", send_id=send_id))


@routes.route("/<int:send_id>/resend", methods=["POST"])
@role_required("manager")
def resend(send_id: int):
    try:
        draft = sends.resend_failures(send_id, actor())
    except sends.BulkError as error:
        flash(" ".join(error.errors), "error")
        return redirect(url_for("bulk.detail", send_id=send_id))
    flash(f"配信エラーになった {draft.recipient_count:,} 名への再送を作成しました。内容を確認して配信してください。", "success")
    return redirect(url_for("bulk.messages", send_id=draft.id))
