"""Paging by key, as every list of the server pages: a list is read one row past its page, and that extra row only
says that another page follows, which starts after the key of the page's last row."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

Row = TypeVar("Row")
Key = TypeVar("Key")


def cut_page(rows: list[Row], size: int, key: Callable[[Row], Key]) -> tuple[list[Row], Key | None]:
    """The page of `rows` (read `size + 1` at most), and the key the next page starts after (None: the last page)."""
    if len(rows) <= size:
        return rows, None
    page = rows[:size]
    return page, key(page[-1])
