"""The ticket page (R-42, R-44): the balance and its ledger for managers; admins add or correct tickets there.
Same `bulk` blueprint as the send pages (endpoint bulk.tickets)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit
from core.config import setting
from core.inputs import InputError, parse_int
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from sms import tickets

routes = Routes()


@routes.route("/tickets", methods=["GET", "POST"], endpoint="tickets")
@role_required("manager")
def tickets_page():
    errors, values = [], {"count": "", "reason": ""}
    if request.method == "POST":
        if not current_user.has_role("admin"):
            abort(403)
        values = {"count": request.form.get("count", "").strip(), "reason": request.form.get("reason", "").strip()}
        errors = add_tickets(values["count"], values["reason"], current_user.username)
        if not errors:
            flash(f"チケットを {int(values['count']):+,} 枚登録しました（残り {tickets.balance():,} 枚）。", "success")
            return redirect(url_for("bulk.tickets"))
    page = paginate(tickets.entries(), request.args.get("page"), setting("web.page_size"))
    return render_template("bulk/tickets.html", page=page, balance=tickets.balance(), errors=errors, values=values,
                           tickets_enabled=setting("sms.tickets_enabled")), (400 if errors else 200)


def add_tickets(count_text: str, reason: str, actor: str) -> list[str]:
    """An admin adds (or corrects) tickets; every entry says who and why. Returns the refusals, if any."""
    errors = []
    try:
        count = parse_int(count_text, "枚数", minimum=-tickets.MAX_BALANCE, maximum=tickets.MAX_BALANCE, required=True)
    except InputError as error:
        count = 0
        errors.append(error.message)
    if not errors and count == 0:
        errors.append("枚数に 0 は指定できません。")
    if not reason:
        errors.append("理由を入力してください（例: 3 月分購入）。")
    if errors:
        return errors
    try:
        after = tickets.add(count, reason=reason[:200], actor=actor)
    except ValueError:
        if count > 0:
            return [f"残り枚数は {tickets.MAX_BALANCE:,} 枚までです（現在 {tickets.balance():,} 枚）。"]
        return [f"残り枚数（{tickets.balance():,} 枚）より多くは減らせません。"]
    audit.record("tickets.added", "tickets", {"count": count, "reason": reason, "balance": after})
    return []
