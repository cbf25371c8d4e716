"""Admin pages: accounts and unlock, API tokens, IP allowlists, company holidays, audit log, settings."""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, clock
from core.calendar import public_holiday_name, weekday_label
from core.config import SCHEMA, setting
from core.inputs import MAX_YEAR, MIN_YEAR, InputError, parse_date, parse_year
from core.models import ROLE_LABELS, ROLES, ApiToken, AuditLog, CompanyHoliday, IpAllowRule, User
from core.pagination import paginate
from core.security import issue_api_token, role_required
from core.setting_labels import SECTIONS, SETTING_TEXTS, SettingText, shown_value
from web import sessions
from web.auth import hash_password, password_problem, unlock_account
from web.ipallow import SCOPES, allowed, parse_network, rules

bp = Blueprint("admin", __name__, url_prefix="/admin")
SECRET_SETTINGS = {"web.secret_key", "twilio.auth_token", "twilio.account_sid"}
SECRET_ENDINGS = ("secret", "secret_key", "token", "password", "passwd", "credentials")  # of the setting's name
MASK = "********"
URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/@:\s]*):[^/@\s]*@", re.IGNORECASE)
QUERY_PASSWORD = re.compile(r"(?P<head>[?&](password|passwd|sslpassword)=)[^&#]*", re.IGNORECASE)


@bp.before_request
@role_required("admin")
def admins_only():
    return None


# --- accounts ----------------------------------------------------------------------------------------
@bp.route("/users")
def users():
    query = User.select().order_by(User.username)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(User.username.contains(q) | User.display_name.contains(q))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    return render_template("admin/users.html", page=page, q=q, admin_count=User.admins().count(),
                           role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = request.form
    if request.method == "POST":
        errors = user_form_errors(form, creating=True)
        if not errors:
            user = User.create(
                username=form["username"].strip(), display_name=form.get("display_name", "").strip(),
                role=form["role"], password_hash=hash_password(form["password"]),
            )
            audit.record("account.created", user.username, {"role": user.role})
            flash(f"アカウント「{user.username}」を作成しました。", "success")
            return redirect(url_for("admin.users"))
        for e in errors:
            flash(e, "error")
        return render_template("admin/user_form.html", user=None, form=form, roles=ROLES, role_labels=ROLE_LABELS), 400
    return render_template("admin/user_form.html", user=None, form=form, roles=ROLES, role_labels=ROLE_LABELS)


def user_form_errors(form, creating: bool, user: User | None = None) -> list[str]:
    errors = []
    if creating:
        name = form.get("username", "").strip()
        if not name:
            errors.append("ユーザー名を入力してください。")
        elif len(name) > 64:
            errors.append("ユーザー名は 64 文字以内にしてください。")
        elif User.select().where(User.username == name).exists():
            errors.append(f"ユーザー名「{name}」は既に使われています。")
    if form.get("role") not in ROLES:
        errors.append("権限を選択してください。")
    password = form.get("password", "")
    if creating or password:
        problem = password_problem(password, form.get("confirm", ""))
        if problem:
            errors.append(problem)
    if user is not None and user.role == "admin" and form.get("role") != "admin" and _last_admin(user):
        errors.append("最後の管理者の権限は変更できません。先に別の管理者を作成してください。")
    if user is not None and user.role == "admin" and not form.get("active") and _last_admin(user):
        errors.append("最後の管理者は無効にできません。")
    return errors


def _last_admin(user: User) -> bool:
    return not User.admins().where(User.id != user.id).exists()


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = User.get_or_none(User.id == user_id) or abort(404)
    form = request.form
    if request.method == "POST":
        errors = user_form_errors(form, creating=False, user=user)
        if not errors:
            changes = {"display_name": form.get("display_name", "").strip(), "role": form["role"],
                       "active": bool(form.get("active"))}
            if form.get("password"):
                changes["password_hash"] = hash_password(form["password"])
            User.update(**changes).where(User.id == user.id).execute()
            if form.get("password") or not changes["active"]:
                sessions.end_all(user.id)  # a reset password or a disabled account ends every session it had
                if user.id == current_user.id and changes["active"]:
                    sessions.renew(User.get_by_id(user.id))  # an admin resetting their own: this session goes on
            audit.record("account.updated", user.username,
                         {k: v for k, v in changes.items() if k != "password_hash"} |
                         ({"password": "reset"} if form.get("password") else {}))
            flash(f"アカウント「{user.username}」を保存しました。", "success")
            return redirect(url_for("admin.users"))
        for e in errors:
            flash(e, "error")
        return render_template("admin/user_form.html", user=user, form=form, roles=ROLES, role_labels=ROLE_LABELS), 400
    return render_template("admin/user_form.html", user=user, form=None, roles=ROLES, role_labels=ROLE_LABELS)


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
def unlock_user(user_id: int):
    user = User.get_or_none(User.id == user_id) or abort(404)
    unlock_account(user.username)
    audit.record("account.unlocked", user.username)
    flash(f"アカウント「{user.username}」のロックを解除しました。", "success")
    return redirect(url_for("admin.users"))


# --- API tokens -----------------------------------------------------------------------------------------
@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    new_token = None
    if request.method == "POST":
        label = request.form.get("label", "").strip()
        if not label or len(label) > 100:
            flash("トークンの名前を 1〜100 文字で入力してください。", "error")
        else:
            token, new_token = issue_api_token(label, created_by=current_user.username)
            audit.record("api_token.created", label, {"prefix": token.prefix})
            flash("API トークンを発行しました。この画面を離れると二度と表示されません。", "success")
    rows = ApiToken.select().order_by(ApiToken.created_at.desc())
    return render_template("admin/tokens.html", tokens=rows, new_token=new_token)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
def revoke_token(token_id: int):
    token = ApiToken.get_or_none(ApiToken.id == token_id) or abort(404)
    if token.revoked_at is None:
        ApiToken.update(revoked_at=clock.now()).where(ApiToken.id == token.id).execute()
        audit.record("api_token.revoked", token.label, {"prefix": token.prefix})
        flash(f"API トークン「{token.label}」を失効させました。", "success")
    return redirect(url_for("admin.tokens"))


# --- IP allowlists --------------------------------------------------------------------------------------
@bp.route("/ip", methods=["GET", "POST"])
def ip_allowlist():
    if request.method == "POST":
        scope, cidr = request.form.get("scope", ""), request.form.get("cidr", "").strip()
        problem = ip_rule_problem(scope, cidr, request.remote_addr or "")
        if problem:
            flash(problem, "error")
        else:
            net = str(parse_network(cidr))
            IpAllowRule.create(scope=scope, cidr=net, note=request.form.get("note", "").strip()[:200])
            audit.record("ip_allowlist.added", f"{scope}:{net}")
            flash(f"{SCOPES[scope]}に {net} を追加しました。", "success")
            return redirect(url_for("admin.ip_allowlist"))
    lists = {scope: IpAllowRule.select().where(IpAllowRule.scope == scope).order_by(IpAllowRule.id) for scope in SCOPES}
    return render_template("admin/ip.html", lists=lists, scopes=SCOPES, my_ip=request.remote_addr,
                           form=request.form)


def ip_rule_problem(scope: str, cidr: str, my_ip: str) -> str | None:
    """Refuse a first rule that would lock out the admin adding it (the seed's FAQ shows how that ends)."""
    if scope not in SCOPES:
        return "種別を選択してください。"
    try:
        net = str(parse_network(cidr))
    except ValueError as exc:
        return str(exc)
    if not allowed(my_ip, rules(scope) + [net]):
        return (f"現在お使いの IP アドレス ({my_ip}) が含まれていないため、追加するとこの画面に入れなくなります。"
                "先に現在の IP アドレスを追加してください。")
    return None


@bp.route("/ip/<int:rule_id>/delete", methods=["POST"])
def delete_ip_rule(rule_id: int):
    rule = IpAllowRule.get_or_none(IpAllowRule.id == rule_id) or abort(404)
    remaining = [r for r in rules(rule.scope) if r != rule.cidr]
    if remaining and not allowed(request.remote_addr or "", remaining):
        flash("削除すると現在の IP アドレスが許可されなくなるため、削除できません。", "error")
        return redirect(url_for("admin.ip_allowlist"))
    rule.delete_instance()
    audit.record("ip_allowlist.removed", f"{rule.scope}:{rule.cidr}")
    flash(f"{SCOPES[rule.scope]}から {rule.cidr} を削除しました。", "success")
    return redirect(url_for("admin.ip_allowlist"))


# --- company holidays -----------------------------------------------------------------------------------
@bp.route("/holidays", methods=["GET", "POST"])
def holidays():
    try:
        year = parse_year(request.args.get("year"), "年", default=clock.today().year)
        errors = []
    except InputError as error:
        year, errors = clock.today().year, [error.message]
    if request.method == "POST":
        try:
            day = parse_date(request.form.get("day"), "日付", required=True)
        except InputError as error:
            errors.append(error.message)
        else:
            name = request.form.get("name", "").strip()[:100] or "会社休業日"
            # ON CONFLICT … DO UPDATE: both databases have it (PostgreSQL has no INSERT OR REPLACE)
            CompanyHoliday.insert(day=day, name=name).on_conflict(
                conflict_target=[CompanyHoliday.day], update={CompanyHoliday.name: name}).execute()
            audit.record("holiday.added", day.isoformat(), {"name": name})
            flash(f"{day:%Y年%m月%d日} を会社休業日にしました。", "success")
            return redirect(url_for("admin.holidays", year=day.year))
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    company = CompanyHoliday.select().where(CompanyHoliday.day.between(start, end)).order_by(CompanyHoliday.day)
    public = [(d, public_holiday_name(d)) for d in _days(start, end) if public_holiday_name(d)]
    return render_template("admin/holidays.html", year=year, company=company, public=public,
                           weekday_label=weekday_label, errors=errors, form=request.form, min_year=MIN_YEAR,
                           max_year=MAX_YEAR), (400 if errors else 200)


@bp.route("/holidays/<day>/delete", methods=["POST"])
def delete_holiday(day: str):
    try:
        when = parse_date(day, "日付", required=True)
    except InputError:
        abort(404)
    row = CompanyHoliday.get_or_none(CompanyHoliday.day == when) or abort(404)
    row.delete_instance()
    audit.record("holiday.removed", when.isoformat())
    flash(f"{when.isoformat()} を会社休業日から外しました。", "success")
    return redirect(url_for("admin.holidays", year=when.year))


def _days(start: dt.date, end: dt.date):
    while start <= end:
        yield start
        start += dt.timedelta(days=1)


# --- audit log and settings ------------------------------------------------------------------------------
@bp.route("/audit")
def audit_log():
    query = AuditLog.select().order_by(AuditLog.at.desc(), AuditLog.id.desc())
    q = request.args.get("q", "").strip()
    if q:
        # The page shows actions in words: a search for 「作成」 finds every action whose label says so.
        named = [action for action in audit.described_actions() if q in audit.action_label(action)]
        query = query.where(AuditLog.actor.contains(q) | AuditLog.action.contains(q)
                            | AuditLog.target.contains(q) | AuditLog.action.in_(named))
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    return render_template("admin/audit.html", page=page, q=q, action_label=audit.action_label,
                           detail_lines=audit.detail_lines, shown_target=audit.shown_target)


@bp.route("/settings")
def settings_page():
    from flask import current_app

    values = current_app.config["SETTINGS"]
    sections: dict[str, list] = {}
    for key in SCHEMA:
        text = SETTING_TEXTS.get(key) or SettingText(key)
        value = shown_setting(key, values[key])
        sections.setdefault(key.split(".", 1)[0], []).append((key, text, shown_value(key, value)))
    return render_template("admin/settings.html", sections=sections, section_labels=SECTIONS)


def shown_setting(key: str, value):
    """A setting as the page shows it: secrets masked, and so is a password inside a URL (DATABASE_URL)."""
    if value and (key in SECRET_SETTINGS or key.endswith(SECRET_ENDINGS)):
        return MASK
    if isinstance(value, str):
        value = URL_PASSWORD.sub(lambda m: f"{m['head']}:{MASK}@", value)
        return QUERY_PASSWORD.sub(lambda m: f"{m['head']}{MASK}", value)
    return value
