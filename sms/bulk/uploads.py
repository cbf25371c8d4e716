"""CSV files kept between two visits of the recipient step (the user still has to choose the phone column).

A file is stored under var/bulk_uploads by a random token the page carries in a hidden field; it goes when the
draft is made from it, or at the daily retention purge (sms.bulk.retention), whichever comes first.
"""
from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

from core import clock
from core.config import ROOT

DIRECTORY = ROOT / "var" / "bulk_uploads"
SUFFIX = ".csv"


def directory() -> Path:
    return DIRECTORY


def path_of(token: str) -> Path | None:
    """Where the file of `token` lives; None for a token that is not ours (only letters and digits are)."""
    if not token or not token.isalnum():
        return None
    return directory() / f"{token}{SUFFIX}"


def keep(data: bytes) -> str:
    """Store the bytes of an upload; returns the token that reads them back."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    (folder / f"{token}{SUFFIX}").write_bytes(data)
    return token


def read(token: str) -> bytes | None:
    path = path_of(token)
    if path is None or not path.exists():
        return None
    return path.read_bytes()


def discard(token: str) -> None:
    path = path_of(token)
    if path is not None:
        path.unlink(missing_ok=True)


def purge(before: dt.datetime) -> int:
    """Delete the files written before `before`; returns how many went."""
    folder = directory()
    if not folder.exists():
        return 0
    old = [p for p in folder.glob(f"*{SUFFIX}") if clock.from_timestamp(p.stat().st_mtime) < before]
    for path in old:
        path.unlink(missing_ok=True)
    return len(old)
