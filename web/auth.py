"""Login and logout (R-61, R-65): one answer for every refused login, atomic lock counting, a per-address throttle.

A refused login says the same thing, with the same work, whatever the reason: an unknown user name, a
wrong password, a locked or a disabled account. Telling a locked account apart, even only after the right
password, would go on answering "right password" to whoever keeps guessing after the lock, so a lock would
no longer stop guessing; and a stranger would learn which accounts exist and which are locked. Only the
audit log (admins) records the reason. The login page says in general that accounts lock and whom to ask.
"""
from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from core import audit, clock
from core.config import setting
from core.db import write_transaction
from core.models import User
from web import sessions, throttle
from web.redirects import same_site_path

bp = Blueprint("auth", __name__)

LOGIN_REFUSED = ("ログインできませんでした。ユーザー名とパスワードを確認してください。"
                 "続けて間違えるとアカウントがロックされます。ログインできない場合は管理者に連絡してください。")
THROTTLED = "ログインの失敗が続いたため、この端末からのログインを一時的に止めています。{minutes} 分ほど待ってから再度お試しください。"
USERNAME_LENGTH = 64

# Compared against when the account cannot log in anyway, so every refusal costs one hash check of the same kind.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def password_problem(password: str, confirm: str | None = None) -> str | None:
    """Why a new password is not acceptable, in Japanese; None when it is."""
    minimum = setting("accounts.min_password_length")
    if len(password) < minimum:
        return f"パスワードは {minimum} 文字以上にしてください。"
    if confirm is not None and password != confirm:
        return "確認用パスワードが一致しません。"
    return None


def refusal_reason(user: User | None, password_ok: bool) -> str | None:
    """Why a login is refused, for the audit log only; None when it may go on."""
    if user is None:
        return "unknown_user"
    if user.is_locked:
        return "locked"
    if not user.active:
        return "inactive"
    return None if password_ok else "wrong_password"


def authenticate(username: str, password: str) -> tuple[User | None, str | None]:
    """(user, None) for a login that may go on, else (None, reason). Every refusal is counted against the name."""
    user = User.get_or_none(User.username == username[:USERNAME_LENGTH])
    usable = user is not None and not user.is_locked and user.active
    password_ok = check_password_hash(user.password_hash if usable else _DUMMY_HASH, password)
    reason = refusal_reason(user, password_ok)
    if reason is None and mark_logged_in(user):
        return User.get_by_id(user.id), None
    count_failure(username[:USERNAME_LENGTH])
    return None, reason or "locked"  # locked between the check and the mark


def mark_logged_in(user: User) -> bool:
    """Reset the failure count, unless the account was locked or disabled in the meantime."""
    return bool(User.update(failed_logins=0, last_login_at=clock.now())
                .where(User.id == user.id, User.locked_at.is_null(), User.active == True)
                .execute())


def count_failure(username: str) -> None:
    """One more wrong password, counted in SQL (parallel guesses all count); the lock follows the stored count.
    The same statements run for an unknown name (they change no row), so both refusals do the same work."""
    limit = setting("accounts.max_failed_logins")
    with write_transaction():
        User.update(failed_logins=User.failed_logins + 1).where(User.username == username).execute()
        locked = (User.update(locked_at=clock.now(), session_version=User.session_version + 1)
                  .where(User.username == username, User.locked_at.is_null(), User.failed_logins >= limit)
                  .execute())
    if locked:
        audit.record("account.locked", username, {"failed_logins": limit}, actor=username)


def unlock_account(username: str) -> bool:
    """R-61: an admin (or `run.py unlock NAME`) unlocks an account; its count of wrong passwords starts again."""
    return bool(User.update(locked_at=None, failed_logins=0).where(User.username == username).execute())


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    username = request.form.get("username", "").strip()
    if request.method == "GET":
        return render_template("auth/login.html", username=username)
    attempt = throttle.reserve(request.remote_addr or "")
    if not attempt.allowed:
        return throttled(attempt, username)
    user, reason = authenticate(username, request.form.get("password", ""))
    if user is None:
        audit.record("login.failed", username[:USERNAME_LENGTH], {"reason": reason}, actor="")
        flash(LOGIN_REFUSED, "error")
        return render_template("auth/login.html", username=username), 401
    throttle.release(attempt)
    sessions.begin(user)
    audit.record("login", user.username, actor=user.username)
    return redirect(same_site_path(request.args.get("next")) or url_for("home.index"))


def throttled(attempt: throttle.Attempt, username: str):
    if attempt.first_refused:
        audit.record("login.throttled", attempt.client, {"attempts": attempt.count - 1}, actor="")
    flash(THROTTLED.format(minutes=max(1, -(-attempt.retry_after // 60))), "error")
    response = make_response(render_template("auth/login.html", username=username), 429)
    response.headers["Retry-After"] = str(attempt.retry_after)
    return response


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record("logout", current_user.username)
    sessions.end_all(current_user.id)
    logout_user()
    sessions.forget()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "POST":
        if not check_password_hash(current_user.password_hash, request.form.get("current", "")):
            flash("現在のパスワードが正しくありません。", "error")
        else:
            new, confirm = request.form.get("new", ""), request.form.get("confirm", "")
            problem = password_problem(new, confirm)
            if problem:
                flash(problem, "error")
            else:
                User.update(password_hash=hash_password(new)).where(User.id == current_user.id).execute()
                sessions.end_all(current_user.id)  # a cookie copied before the change is refused after it
                sessions.renew(User.get_by_id(current_user.id))
                audit.record("account.password_changed", current_user.username)
                flash("パスワードを変更しました。他の端末のログインは終了しました。", "success")
                return redirect(url_for("home.index"))
    return render_template("auth/password.html")
