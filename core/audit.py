"""Audit log: who changed what. Feature packages call `record` after every change they save, and register
`expired_entries(...)` for the actions whose entries name a phone number (R-52)."""
from __future__ import annotations

import json
from typing import Any

from flask import g, has_request_context, request

from core.models import AuditLog
from core.retention import Expiry, Purge, delete_rows


def record(action: str, target: str = "", detail: Any = "", actor: str | None = None) -> AuditLog:
    """Store one audit entry; the actor and IP come from the request when there is one."""
    if actor is None:
        actor = getattr(g, "audit_actor", "") if has_request_context() else "system"
    ip = (request.remote_addr or "") if has_request_context() else ""
    if not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)
    return AuditLog.create(actor=actor or "", ip=ip, action=action, target=str(target)[:200], detail=detail)


def expired_entries(*actions: str) -> Purge:
    """A retention purge (core.retention) for the entries of `actions`: those that name a caller's or a
    recipient's phone number. A package registers one for the actions it records with a number."""

    def purge(expiry: Expiry) -> int:
        return delete_rows(AuditLog, (AuditLog.at < expiry.before) & AuditLog.action.in_(actions), expiry)

    return purge
