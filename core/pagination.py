"""Pagination of peewee queries for list pages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.inputs import int_or


@dataclass
class Page:
    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.number * self.size)


def paginate(query, page: Any = 1, size: int = 50) -> Page:
    """One page of `query`; an out-of-range or malformed page number shows the nearest real page."""
    number = int_or(page, 1, minimum=1)
    total = query.count()
    last = max(1, -(-total // size))
    number = min(number, last)
    items = list(query.paginate(number, size))
    return Page(items=items, number=number, size=size, total=total)
