"""The hand-written Graph snapshot of a small tenant (Fourth Coffee), its identifiers, and helpers to edit it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from processor.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "fourth-coffee"
E3, E1 = "6fd2c87f-b296-42f0-b197-1e91e994b900", "18181a46-0d4e-45cd-891e-60aabd171b4e"
SWAY = "a23b959c-7ce8-4e57-9140-b90eb88a9e97"
G_E3 = "6e0e3000-0000-4000-8000-0000000000e3"
ANA, BEN, CHEN, DARA, ELI = (f"0a1e000{n}-0000-4000-8000-00000000000{n}" for n in range(1, 6))


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def edit(folder: Path, name: str, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """Apply `change` to the `value` list of a snapshot file."""
    path = folder / name
    document = json.loads(path.read_text("utf-8"))
    change(document["value"])
    path.write_text(json.dumps(document), encoding="utf-8")


def user(items: list[dict[str, Any]], user_id: str) -> dict[str, Any]:
    return next(item for item in items if item["id"] == user_id)
