"""A throttle of login attempts per client address (R-65), kept in the database so every web process shares it.

Each attempt is counted before its password is checked (so parallel guesses cannot all slip through
before the first failure is stored), and a successful login gives its count back: only failures use
up the allowance. Beyond `accounts.login_throttle_attempts` in `accounts.login_throttle_minutes` the
client waits (429, Retry-After) until its window ends. Guessing, and locking other people's accounts
(R-61 locks an account at 5 wrong passwords), both cost time that way.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

from peewee import Case

from core import clock
from core.config import setting
from core.db import write_transaction
from core.models import LoginThrottle

IPV6_CLIENT_PREFIX = 64  # one IPv6 client is usually given a whole /64


@dataclass(frozen=True)
class Attempt:
    client: str
    count: int           # attempts in the window, this one included
    retry_after: int     # seconds until the window ends
    allowed: bool

    @property
    def first_refused(self) -> bool:
        """The attempt that reached the throttle (the audit log records that one, not every one after it)."""
        return self.count == setting("accounts.login_throttle_attempts") + 1


def client_key(address: str) -> str:
    """The address counted against: IPv4 as it is, IPv6 by its /64 (else one client could rotate addresses)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))


def reserve(address: str) -> Attempt:
    """Count one login attempt of the client; allowed while the window's count stays within the limit."""
    client, now = client_key(address), clock.now()
    window = dt.timedelta(minutes=setting("accounts.login_throttle_minutes"))
    stale = LoginThrottle.window_start <= now - window
    upsert = LoginThrottle.insert(client=client, window_start=now, attempts=1).on_conflict(
        conflict_target=[LoginThrottle.client],
        update={LoginThrottle.attempts: Case(None, [(stale, 1)], LoginThrottle.attempts + 1),
                LoginThrottle.window_start: Case(None, [(stale, now)], LoginThrottle.window_start)})
    with write_transaction():  # the row stays locked until the count is read back: every attempt sees its own
        LoginThrottle.delete().where(stale, LoginThrottle.client != client).execute()
        upsert.execute()
        row = LoginThrottle.get(LoginThrottle.client == client)
    retry_after = max(1, math.ceil((row.window_start + window - now).total_seconds()))
    return Attempt(client, row.attempts, retry_after, row.attempts <= setting("accounts.login_throttle_attempts"))


def release(attempt: Attempt) -> None:
    """A successful login takes back its own attempt, so only failures count."""
    (LoginThrottle.update(attempts=LoginThrottle.attempts - 1)
     .where(LoginThrottle.client == attempt.client, LoginThrottle.attempts > 0).execute())
