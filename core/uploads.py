"""Routes that take an upload, each registered by the package that owns it (R-65): web.limits gives these the
large body limit their setting allows and every other route a small one, before anything reads the body."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask

from core import registry

KIB = 1024
MIB = 1024 * KIB
API_LIMIT = 256 * KIB        # one message, a token check, a report query
FORM_FIELDS_ALLOWANCE = MIB  # an upload route's other fields and the multipart framing, beyond the file


@dataclass(frozen=True)
class UploadRoute:
    name: str        # the key templates read the file field's limit by (upload_limits[name])
    pattern: str     # the path, as a regular expression
    file_bytes: Callable[[Mapping], int]  # the largest file (or list) the route accepts, from the settings
    headroom: int = FORM_FIELDS_ALLOWANCE  # the rest of the body beyond it
    content_type: str = "multipart/form-data"  # a file comes only in this; other bodies get the page limit


def register_upload_route(app: Flask, route: UploadRoute) -> None:
    registry.add(app, "upload_routes", route.name, route)


def upload_routes(app: Flask | None = None) -> list[UploadRoute]:
    return list(registry.entries("upload_routes", app).values())
