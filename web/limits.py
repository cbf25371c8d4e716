"""Request body limits by kind of route (R-65), enforced in front of everything else.

A body is refused from its Content-Length (or, for a chunked body, as soon as reading it passes the limit)
before Flask, the session, the login, a Twilio signature or a route looks at it: otherwise a stranger's
24 MB form is parsed whole on any path. Pages, forms, JSON and webhooks get small limits; only the routes
with an upload field get the configured large ones.
"""
from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jinja2 import Environment

from core.extensions import WEBHOOK_PREFIX
from core.uploads import API_LIMIT, KIB, MIB, UploadRoute, upload_routes

WEBHOOK_LIMIT = 64 * KIB   # Twilio's posts are a few kilobytes (a long SpeechResult included)
FORM_LIMIT = 512 * KIB     # the largest page form is a big call flow (Flask parses at most 1000 multipart fields anyway)
SPOOL_IN_MEMORY = MIB      # a chunked body within its limit is kept in memory up to this, on disk beyond
DIGITS_OF_ANY_LIMIT = 15   # a Content-Length longer than this is over every limit (and too long to convert)


@dataclass(frozen=True)
class BodyLimits:
    """The limit of each kind of route, decided from the method and the path alone."""

    uploads: tuple[tuple[re.Pattern, str, int], ...]
    upload_files: dict[str, int]

    @classmethod
    def from_settings(cls, settings: Mapping, routes: Iterable[UploadRoute]) -> BodyLimits:
        routes = list(routes)
        files = {route.name: route.file_bytes(settings) for route in routes}
        uploads = tuple((re.compile(route.pattern + r"\Z"), route.content_type, files[route.name] + route.headroom)
                        for route in routes)
        return cls(uploads, files)

    @classmethod
    def for_app(cls, app) -> BodyLimits:
        """From the app's settings and the upload routes its packages registered (core.uploads)."""
        return cls.from_settings(app.config["SETTINGS"], upload_routes(app))

    def for_request(self, method: str, path: str, content_type: str = "") -> int:
        if path.startswith(WEBHOOK_PREFIX):
            return WEBHOOK_LIMIT
        if method == "POST":
            for pattern, upload_type, limit in self.uploads:
                if pattern.match(path) and content_type.lower().startswith(upload_type):
                    return limit
        return API_LIMIT if path.startswith("/api/") else FORM_LIMIT

    @property
    def largest(self) -> int:
        return max(limit for _, _, limit in self.uploads)


def size_label(limit: int) -> str:
    """1 MB and over in whole megabytes (as the upload fields say), smaller limits in kilobytes."""
    return f"{limit // MIB} MB" if limit >= MIB else f"{limit // KIB} KB"


TOO_LARGE = "送信されたデータが大きすぎます。"
PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>エラー 413 | IVR・SMS 管理画面</title><link rel="stylesheet" href="{{ root }}/static/web/app.css"></head>
<body><main class="content"><h1>エラー 413</h1><p>{{ message }}</p><p class="detail">{{ detail }}</p>
<p>ファイルを小さくするか、入力を減らしてから、もう一度お試しください。</p>
<p><a href="{{ root }}/">トップへ戻る</a></p></main></body></html>
""")


def too_large_response(environ, limit: int) -> tuple[str, list[tuple[str, str]], bytes]:
    """The refusal in the shape the route's callers read: the API's JSON, plain text for Twilio, a page else."""
    path = environ.get("PATH_INFO", "")
    detail = f"1 回に送信できるのは {size_label(limit)} までです。"
    if path.startswith("/api/"):
        body = json.dumps({"error": {"code": "too_large", "message": f"{TOO_LARGE}{detail}"}}, ensure_ascii=False)
        kind = "application/json"
    elif path.startswith(WEBHOOK_PREFIX):
        body, kind = TOO_LARGE, "text/plain; charset=utf-8"
    else:
        body = PAGE.render(root=environ.get("SCRIPT_NAME", ""), message=TOO_LARGE, detail=detail)
        kind = "text/html; charset=utf-8"
    data = body.encode()
    return "413 REQUEST ENTITY TOO LARGE", [("Content-Type", kind), ("Content-Length", str(len(data)))], data


class RequestBodyLimit:
    """WSGI middleware, outermost but for the headers: refuses a body over its route's limit with 413."""

    def __init__(self, wsgi_app, limits: BodyLimits):
        self.wsgi_app = wsgi_app
        self.limits = limits

    def __call__(self, environ, start_response):
        limit = self.limits.for_request(environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                                        environ.get("CONTENT_TYPE", ""))
        length = environ.get("CONTENT_LENGTH", "").strip()
        if length:
            if not (length.isascii() and length.isdigit()):
                return self.wsgi_app(environ, start_response)  # werkzeug reads no body of an unreadable length
            if len(length) > DIGITS_OF_ANY_LIMIT or int(length) > limit:
                return self.refuse(environ, start_response, limit)
        elif is_streamed(environ) and not self.buffer_stream(environ, limit):
            return self.refuse(environ, start_response, limit)
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def buffer_stream(environ, limit: int) -> bool:
        """Read a body of unknown length up to its limit; within it, hand it on with its length known."""
        source = environ["wsgi.input"]
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (read by the app later)
        received = 0
        while chunk := source.read(min(64 * KIB, limit + 1 - received)):
            received += len(chunk)
            if received > limit:
                spool.close()
                return False
            spool.write(chunk)
        spool.seek(0)
        environ["wsgi.input"] = spool
        environ["CONTENT_LENGTH"] = str(received)
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return True

    @staticmethod
    def refuse(environ, start_response, limit: int):
        status, headers, data = too_large_response(environ, limit)
        start_response(status, headers)
        return [data]


def is_streamed(environ) -> bool:
    """A chunked body: the server marks it terminated (werkzeug) or passes the header on (others)."""
    return bool(environ.get("wsgi.input_terminated")) or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()


def install_body_limits(app) -> BodyLimits:
    """Wrap the whole app, the voice-webhook shortcut included; Flask's own limit stays as a backstop."""
    limits = BodyLimits.for_app(app)
    app.config["MAX_CONTENT_LENGTH"] = limits.largest
    app.wsgi_app = RequestBodyLimit(app.wsgi_app, limits)
    return limits
