"""Login and update IP allowlists (R-62). No rule in a list means that list allows everyone."""
from __future__ import annotations

import ipaddress

from flask import abort, request

from core.extensions import no_allowlist_prefixes
from core.models import IpAllowRule

SCOPES = {"login": "ログイン許可IPアドレス", "update": "更新許可IPアドレス"}
UPDATE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A single address or a CIDR; raises ValueError with a Japanese message."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise ValueError(f"IP アドレスまたは CIDR の形式が正しくありません: {text!r}") from None


def allowed(address: str, cidrs: list[str]) -> bool:
    if not cidrs:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in parse_network(cidr) for cidr in cidrs)


def rules(scope: str) -> list[str]:
    return [r.cidr for r in IpAllowRule.select().where(IpAllowRule.scope == scope)]


def enforce_ip_allowlist():
    """before_request: every page needs the login allowlist; every change also the update allowlist."""
    if request.path.startswith(no_allowlist_prefixes()) or request.endpoint == "static":
        return None
    address = request.remote_addr or ""
    if not allowed(address, rules("login")):
        abort(403, description=f"この IP アドレス ({address}) からのログインは許可されていません。")
    if request.method in UPDATE_METHODS and request.path not in ("/login", "/logout"):
        if not allowed(address, rules("update")):
            abort(403, description=f"この IP アドレス ({address}) からの更新は許可されていません。")
    return None
