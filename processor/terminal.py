"""Terminal plumbing shared by the command line and the demo: input files as numbered lines, the progress bar."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True)


class UnreadableInput(OSError):
    """An input path that is not a readable file."""


def input_lines(paths: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        stream: IO[bytes] = sys.stdin.buffer if path == "-" else open(path, "rb")
        with stream:
            for number, raw in enumerate(stream, 1):
                yield f"{path}:{number}", raw.rstrip(b"\r\n")


def check_readable(paths: tuple[str, ...]) -> None:
    for path in paths:
        if path != "-" and not (Path(path).is_file() and os.access(path, os.R_OK)):
            raise UnreadableInput(f"cannot read {path}: not a readable file")


def count_lines(paths: tuple[str, ...]) -> int | None:
    if "-" in paths:
        return None
    total = 0
    for path in paths:
        with open(path, "rb") as f:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return total


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
