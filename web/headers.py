"""Security headers on every response (R-65): pages, API, downloads, errors, static files and webhooks alike.

A WSGI middleware rather than a Flask hook, so the answers made outside Flask (the voice-webhook shortcut,
a refused body) carry them too.
"""
from __future__ import annotations

from urllib.parse import urlsplit

# Public files that may be cached: static assets, the icon and guidance audio (named by content hash, R-12).
CACHEABLE_PREFIXES = ("/static/", "/audio/", "/favicon.ico")


def content_security_policy(public_base_url: str) -> str:
    """Scripts and styles from this site's files only (no inline script, no style attribute, no eval).
    Audio may also come from the public address: the call simulator plays the URLs the TwiML names."""
    media = ["'self'", "blob:"]
    origin = urlsplit(public_base_url)
    if origin.scheme and origin.netloc:
        media.insert(1, f"{origin.scheme}://{origin.netloc}")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"media-src {' '.join(media)}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """WSGI middleware, outermost: adds the headers to whatever answers, and no-store to all but public files."""

    def __init__(self, wsgi_app, public_base_url: str):
        self.wsgi_app = wsgi_app
        self.fixed = [
            ("Content-Security-Policy", content_security_policy(public_base_url)),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "same-origin"),
        ]

    def __call__(self, environ, start_response):
        cacheable = environ.get("PATH_INFO", "").startswith(CACHEABLE_PREFIXES)

        def start(status, headers, exc_info=None):
            return start_response(status, self.secured(headers, cacheable), exc_info)

        return self.wsgi_app(environ, start)

    def secured(self, headers: list[tuple[str, str]], cacheable: bool) -> list[tuple[str, str]]:
        # Signed-in pages, downloads and API answers hold personal data: never kept by a browser or a proxy.
        if not cacheable:
            headers = [(name, value) for name, value in headers if name.lower() not in ("cache-control", "expires")]
            headers.append(("Cache-Control", "no-store"))
        present = {name.lower() for name, _ in headers}
        return headers + [(name, value) for name, value in self.fixed if name.lower() not in present]


def install_security_headers(app) -> None:
    app.wsgi_app = SecurityHeaders(app.wsgi_app, app.config["PUBLIC_BASE_URL"])
