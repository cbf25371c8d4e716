"""Test clients that behave like a browser session: logged in, with the page's CSRF token."""
from __future__ import annotations

import re

from flask.testing import FlaskClient

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class BrowserLikeClient(FlaskClient):
    """Adds the CSRF token to every form POST unless csrf=False is passed."""

    _csrf: str | None = None

    def csrf_token(self) -> str:
        if self._csrf is None:
            page = self.get("/account/password") if self.logged_in else self.get("/login")
            match = CSRF_META.search(page.get_data(as_text=True))
            assert match, "no CSRF token on the page"
            self._csrf = match.group(1)
        return self._csrf

    logged_in = False

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf and "json" not in kwargs:
            data = dict(kwargs.pop("data", None) or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        elif csrf and "json" in kwargs:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().post(*args, **kwargs)

    def login(self, username: str, password: str):
        response = self.post("/login", data={"username": username, "password": password})
        if response.status_code == 302:
            self.logged_in = True
            self._csrf = None  # the login replaced the session's CSRF secret: forms need a token of the new one
            self.csrf_token()
        return response
