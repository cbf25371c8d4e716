"""Login and logout, with account lock after repeated wrong passwords (R-61)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.security import check_password_hash, generate_password_hash

from core import audit, clock
from core.config import setting
from core.extensions import login_manager
from core.models import User

bp = Blueprint("auth", __name__)

# A hash to compare against when the user does not exist, so timing does not reveal user names.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@login_manager.user_loader
def load_user(user_id: str):
    if not user_id.isdigit():
        return None
    return User.get_or_none(User.id == int(user_id))


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


def failed_login_outcome(failed_before: int, limit: int) -> tuple[int, bool]:
    """After one more wrong password: the new count and whether the account now locks."""
    failed = failed_before + 1
    return failed, failed >= limit


def authenticate(username: str, password: str) -> tuple[User | None, str | None]:
    """Check a login; returns (user, None) or (None, Japanese reason). Counts wrong passwords."""
    user = User.get_or_none(User.username == username)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None, "ユーザー名またはパスワードが正しくありません。"
    if user.is_locked:
        return None, "このアカウントはロックされています。管理者にロック解除を依頼してください。"
    if not user.active:
        return None, "このアカウントは無効です。管理者に連絡してください。"
    if not check_password_hash(user.password_hash, password):
        failed, lock = failed_login_outcome(user.failed_logins, setting("accounts.max_failed_logins"))
        User.update(failed_logins=failed, locked_at=clock.now() if lock else None).where(User.id == user.id).execute()
        if lock:
            audit.record("account.locked", user.username, {"failed_logins": failed}, actor=user.username)
            return None, "パスワードを規定回数間違えたため、アカウントをロックしました。管理者にロック解除を依頼してください。"
        left = setting("accounts.max_failed_logins") - failed
        return None, f"ユーザー名またはパスワードが正しくありません。(あと {left} 回間違えるとロックされます)"
    User.update(failed_logins=0, last_login_at=clock.now()).where(User.id == user.id).execute()
    return User.get_by_id(user.id), None


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    username = request.form.get("username", "").strip()
    if request.method == "POST":
        user, problem = authenticate(username, request.form.get("password", ""))
        if user is not None:
            # The session keeps its CSRF secret; Flask's signed cookie sessions are not fixable by a visitor.
            session.permanent = True
            login_user(user)
            audit.record("login", user.username, actor=user.username)
            return redirect(_safe_next(request.args.get("next")))
        flash(problem, "error")
        return render_template("auth/login.html", username=username), 401
    return render_template("auth/login.html", username=username)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    audit.record("logout", current_user.username)
    logout_user()
    session.clear()
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
                audit.record("account.password_changed", current_user.username)
                flash("パスワードを変更しました。", "success")
                return redirect(url_for("home.index"))
    return render_template("auth/password.html")
