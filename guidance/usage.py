"""Who uses a guidance: finders other packages register (through guidance.public), asked before a deletion."""
from __future__ import annotations

from collections.abc import Callable

UsageFinder = Callable[[int], list[str]]
_usage_finders: list[UsageFinder] = []


def register_usage_finder(fn: UsageFinder) -> None:
    """Let another package say who uses a guidance, so it is not deleted from under them."""
    if fn not in _usage_finders:
        _usage_finders.append(fn)


def guidance_users(guidance_id: int) -> list[str]:
    """Descriptions of everything that uses a guidance (from every registered finder)."""
    found: list[str] = []
    for finder in _usage_finders:
        found.extend(finder(guidance_id))
    return found
