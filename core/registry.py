"""Per-app registries: what a feature package tells the others at `init_app`, kept on the app being built.

Typed front ends sit beside the concept they serve (core.retention, core.channels, core.extensions' public
paths, sms.public's caller sources); this module only keeps the entries, in registration order.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app


def entries(name: str, app: Flask | None = None) -> dict[str, Any]:
    """The registry `name` of `app` (default: the current app), key → value in registration order."""
    return (app or current_app).extensions.setdefault(f"registry.{name}", {})


def add(app: Flask, name: str, key: str, value: Any) -> None:
    """Register `value` under `key`; the same value again is a no-op, a different one an error."""
    found = entries(name, app)
    if key in found and found[key] != value:
        raise ValueError(f"{name} {key!r} is already registered")
    found[key] = value
