"""Redirect targets taken from a request (`next` after login) stay on this site (R-65)."""
from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MAX_TARGET = 2000


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None.

    Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so "/\\t/evil.example"
    and "/\\\\evil.example" both lead to another host: any control character or backslash refuses the target.
    """
    if not target or len(target) > MAX_TARGET:
        return None
    if "\\" in target or any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
