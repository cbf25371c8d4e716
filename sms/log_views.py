"""Delivery log (R-30) with filters and CSV (carrier included), monthly counts per box (R-31: 確定 once fixed on the
first business day, sms.billing), one message's history,
the simulator outbox, and the opt-out list (R-24). Same `sms` blueprint as the box pages.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, clock, phone
from core.config import setting
from core.csvfile import ENCODINGS, csv_download
from core.inputs import InputError, parse_date, parse_int, parse_month
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from sms import links, visibility
from sms.billing import monthly_counts
from sms.carriers import carrier_label
from sms.individual import INDIVIDUAL_SEND_ROLE
from sms.models import (
    MAX_BOX_NUMBER,
    SOURCE_LABELS,
    STATE_LABELS,
    Message,
    OptOut,
    Receipt,
    SendAttempt,
    ShortLink,
    StorageBox,
)
from sms.simulator import CARRIER_HINT, SIMULATOR_TEST_NUMBERS

routes = Routes()

FILTER_ERRORS = {"range": "期間の開始日が終了日より後になっています。"}
CSV_COLUMNS = ["ID", "日時", "送信先", "キャリア", "蓄積BOX", "本文", "通数", "ステータス", "状態", "エラーコード",
               "エラーメッセージ", "再送回数", "クリック数", "送信元", "通話SID", "送信事業者ID"]


@dataclass
class LogFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    number: str = ""
    box: int | None = None
    state: str = ""
    errors: tuple[str, ...] = ()


def parse_filter(args) -> LogFilter:
    """Read the log's filters; a malformed value is reported in Japanese and left out (input kept)."""
    errors = []
    found = LogFilter(number=args.get("number", "").strip())
    for key, label in (("date_from", "開始日"), ("date_to", "終了日")):
        try:
            setattr(found, key, parse_date(args.get(key), label))
        except InputError as error:
            errors.append(error.message)
    if found.date_from and found.date_to and found.date_from > found.date_to:
        errors.append(FILTER_ERRORS["range"])
    try:
        found.box = parse_int(args.get("box"), "蓄積BOX番号", minimum=1, maximum=MAX_BOX_NUMBER)
    except InputError as error:
        errors.append(error.message)
    state = args.get("state", "")
    found.state = state if state in STATE_LABELS else ""
    found.errors = tuple(errors)
    return found


def filtered_messages(f: LogFilter):
    query = Message.select()
    if f.date_from:
        query = query.where(Message.created_at >= dt.datetime.combine(f.date_from, dt.time()))
    if f.date_to:
        query = query.where(Message.created_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()))
    term = phone.search_term(f.number)
    if term.isdigit():  # no digits typed: no number filter
        query = query.where(Message.to_number.contains(term))
    if f.box is not None:
        query = query.where(Message.box_number == f.box)
    if f.state:
        query = query.where(Message.state == f.state)
    return query.order_by(Message.created_at.desc(), Message.id.desc())


def box_names() -> dict[int, str]:
    return {b.number: b.name for b in StorageBox.select(StorageBox.number, StorageBox.name)}


@routes.route("/log")
@role_required(visibility.READER_ROLE)
def log():
    f = parse_filter(request.args)
    page = paginate(filtered_messages(f), request.args.get("page", 1), setting("web.page_size"))
    return render_template("sms/log.html", page=page, f=f, args=request.args, states=STATE_LABELS,
                           sources=SOURCE_LABELS, boxes=box_names(), encodings=ENCODINGS)


@routes.route("/log.csv")
@role_required(visibility.READER_ROLE)
def log_csv():
    f = parse_filter(request.args)
    names = box_names()

    def rows():  # the query runs as the download streams, not before
        for message in filtered_messages(f).iterator():
            yield csv_row(message, names)

    return csv_download(f"配信履歴_{clock.now():%Y%m%d_%H%M}.csv", CSV_COLUMNS, rows(), request.args.get("encoding"))


def csv_row(m: Message, names: dict[int, str]) -> list:
    box = "" if m.box_number is None else f"{m.box_number} {names.get(m.box_number, '')}".strip()
    return [m.id, m.created_at.strftime("%Y-%m-%d %H:%M:%S"), phone.display(m.to_number), carrier_label(m.carrier),
            box, m.body, m.parts,
            m.status, m.state_label, "" if m.error_code is None else m.error_code, m.error_message, m.resend_count,
            m.clicks, SOURCE_LABELS.get(m.source, m.source), m.call_sid or "", m.provider_sid or ""]


@routes.route("/log/monthly")
@role_required("manager")
def monthly():
    raw = request.args.get("month", "").strip()
    errors = []
    month = clock.today().replace(day=1)
    try:
        month = parse_month(raw, "対象月", default=month)
    except InputError as error:
        errors.append(error.message)
    return render_template("sms/monthly.html", counts=monthly_counts(month), month=month, raw=raw, errors=errors,
                           names=box_names())


@routes.route("/messages/<int:message_id>")
@role_required("staff")
def message_detail(message_id: int):
    message = Message.get_or_none(Message.id == message_id)
    if message is None or not visibility.can_read(message, current_user):  # ids are sequential: no "exists" hint
        return render_template("error.html", status=404, message="この SMS は見つかりません。", detail=""), 404
    attempts = list(SendAttempt.select().where(SendAttempt.message == message.id).order_by(SendAttempt.seq))
    receipts = list(Receipt.select().where(Receipt.message == message.id).order_by(Receipt.id))
    short_links = list(ShortLink.select().where(ShortLink.message == message.id))
    return render_template("sms/message.html", m=message, attempts=attempts, receipts=receipts,
                           short_links=short_links, boxes=box_names(), sources=SOURCE_LABELS,
                           opted_out=links.is_opted_out(message.to_number),
                           can_send=current_user.has_role(INDIVIDUAL_SEND_ROLE))


@routes.route("/outbox")
@role_required("staff")
def outbox():
    """What the simulator "sent" (as a phone would show it), and what is waiting to be sent."""
    simulator = setting("telephony.provider") == "simulator"
    sent = Message.select().where(Message.provider == "simulator") if simulator else Message.select().where(
        Message.due_at.is_null(False))
    sent = visibility.readable(sent, current_user)
    page = paginate(sent.order_by(Message.id.desc()), request.args.get("page", 1), setting("web.page_size"))
    waiting = Message.select().where(Message.due_at.is_null(False)).count()
    return render_template("sms/outbox.html", page=page, simulator=simulator, waiting=waiting,
                           test_numbers=SIMULATOR_TEST_NUMBERS, boxes=box_names(), carrier_hint=CARRIER_HINT)


@routes.route("/optouts", methods=["GET", "POST"])
@role_required("manager")
def optouts():
    q = request.args.get("q", "").strip()
    typed = ""
    if request.method == "POST":
        typed = request.form.get("number", "").strip()
        checked = phone.check_mobile(typed)
        if not checked.ok:
            flash(f"配信停止に登録できません: {checked.reason}", "error")
        else:
            row, created = links.opt_out(checked.e164, via="admin", note=request.form.get("note", "").strip()[:200])
            if created:
                audit.record("optout.added", checked.e164, {"via": "admin", "note": row.note})
                flash(f"{phone.display(checked.e164)} を配信停止に登録しました。", "success")
                return redirect(url_for("sms.optouts"))
            flash(f"{phone.display(checked.e164)} は既に配信停止に登録されています。", "info")
    query = OptOut.select().order_by(OptOut.created_at.desc(), OptOut.id.desc())
    if q:
        query = query.where(OptOut.number.contains(phone.search_term(q)))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    status = 400 if request.method == "POST" else 200
    return render_template("sms/optouts.html", page=page, q=q, typed=typed), status


@routes.route("/optouts/<int:optout_id>/remove", methods=["POST"])
@role_required("admin")
def optout_remove(optout_id: int):
    row = OptOut.get_or_none(OptOut.id == optout_id)
    if row is not None and links.remove_opt_out(row.number):
        audit.record("optout.removed", row.number, {"was_via": row.via})
        flash(f"{phone.display(row.number)} の配信停止を解除しました。", "success")
    return redirect(url_for("sms.optouts"))
