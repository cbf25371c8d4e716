"""Files other processes read while they are being written (audio for Twilio, recordings, notes)."""
from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the whole new one, never a part: written beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


PRIVATE_MODE = 0o600


def read_or_create_private(path: Path, data: bytes) -> bytes:
    """The file's content; when it does not exist yet, it is made holding `data`, readable by this user only from
    its first byte (no moment with a wider mode), and when processes race to make it, all read the one that won."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    try:
        os.link(temporary, path)  # unlike a rename, never replaces a file another process made meanwhile
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    return path.read_bytes()


def make_private(path: Path) -> None:
    """Create `path` empty with mode 0600 when it is missing; narrow it to 0600 when it exists with a wider one.
    SQLite gives the database's -wal and -shm files the mode of the database file, so they follow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
        return
    except FileExistsError:
        pass
    if path.stat().st_mode & 0o077:
        path.chmod(PRIVATE_MODE)
