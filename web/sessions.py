"""Login sessions that end (R-65): at logout, password change, disable, lock, after idling and after a fixed time.

A session is a signed cookie, so it cannot be deleted where a copy of it is kept. Instead each one carries
the account's session version (User.get_id() gives "id:version") and when it began and was last used;
every request checks them against the database and the time. Raising the version ends every session of
the account at once.

Lifetimes are wall-clock seconds, the time Flask signs the cookie with and Flask-WTF its form tokens, not
core.clock's business time: tests move that to make records of other days while their browser session goes on.
"""
from __future__ import annotations

import re
import time

from flask import flash, g, redirect, request, session, url_for
from flask_login import login_user

from core.config import setting
from core.models import User
from web.redirects import same_site_path

SESSION_ID = re.compile(r"([0-9]{1,10}):([0-9]{1,10})\Z")
BEGAN, SEEN = "_began", "_seen"  # when the login happened and when it was last used (seconds_now())
ENDED_MESSAGES = {
    "expired": "一定時間が経過したため、ログインの有効期限が切れました。もう一度ログインしてください。",
    "ended": "ログアウトされたか、アカウントの状態が変わりました。もう一度ログインしてください。",
}


def forget() -> None:
    """Nothing of this session is kept, its CSRF secret included (a new one is made on the next form)."""
    session.clear()
    g.pop("csrf_token", None)


def begin(user: User) -> None:
    """A new session for `user`: nothing of the visitor's session before the login is kept."""
    forget()
    session.permanent = True
    login_user(user)
    session[BEGAN] = session[SEEN] = seconds_now()


def renew(user: User) -> None:
    """This session goes on under the account's new version (after its own password change); it keeps its start."""
    began = session.get(BEGAN)
    login_user(user)
    session[BEGAN] = began


def end_all(user_id: int) -> None:
    """End every session of the account, wherever its cookie is."""
    User.update(session_version=User.session_version + 1).where(User.id == user_id).execute()


def user_for(session_id: str) -> User | None:
    """flask-login's user loader: the account of a session that is still valid, else None (and the session goes)."""
    match = SESSION_ID.match(session_id or "")
    reason = "ended" if match is None else "expired" if expired(seconds_now()) else None
    user = None if reason else User.get_or_none(User.id == int(match[1]), User.session_version == int(match[2]))
    if user is None or not user.is_active:
        refuse(reason or "ended")
        return None
    session[SEEN] = seconds_now()
    return user


def seconds_now() -> int:
    return int(time.time())


def expired(now: int) -> bool:
    began, seen = session.get(BEGAN), session.get(SEEN)
    if not (isinstance(began, int) and isinstance(seen, int)):
        return True  # a session from before these stamps
    return (now - seen > setting("web.session_minutes") * 60
            or now - began > setting("web.session_absolute_hours") * 3600)


def refuse(reason: str) -> None:
    forget()
    g.session_ended = reason


def send_to_login():
    """flask-login's unauthorized handler: to the login page, saying why when a session just ended."""
    flash(ENDED_MESSAGES.get(g.get("session_ended"), "ログインしてください。"), "warning")
    target = same_site_path(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=target))


def install(login_manager) -> None:
    login_manager.user_loader(user_for)
    login_manager.unauthorized_handler(send_to_login)
