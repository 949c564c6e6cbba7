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


STDIN = "-"
UTF8_BOM = b"\xef\xbb\xbf"


class UnreadableInput(OSError):
    """An input that cannot be read; the message says why in one line."""


def check_readable(paths: tuple[str, ...]) -> None:
    """Raise UnreadableInput for an input that cannot be read: missing, a directory, not permitted, or standard
    input named twice or closed. Whatever else reads is accepted, regular file or not: /dev/null, a FIFO, the
    /dev/fd/N of a shell's process substitution."""
    if paths.count(STDIN) > 1:
        raise UnreadableInput(f"'{STDIN}' (standard input) can be read only once")
    for path in paths:
        if path == STDIN:
            if sys.stdin is None:  # the process was started with its standard input closed
                raise UnreadableInput(f"standard input is closed: nothing to read for '{STDIN}'")
        elif os.path.isdir(path):
            raise UnreadableInput(f"cannot read {path}: it is a directory")
        elif not os.path.exists(path):
            raise UnreadableInput(f"cannot read {path}: no such file")
        elif not os.access(path, os.R_OK):
            raise UnreadableInput(f"cannot read {path}: permission denied")


def input_lines(paths: tuple[str, ...]) -> Iterator[tuple[str, bytes]]:
    """Each input's lines, as ("path:number", line without its end), in order; a UTF-8 byte order mark that an
    editor put before the first line is dropped. Standard input is read, not closed."""
    for path in paths:
        stream: IO[bytes] = sys.stdin.buffer if path == STDIN else open(path, "rb")
        try:
            first = stream.readline()
            if not first:
                continue
            if first.startswith(UTF8_BOM):
                first = first[len(UTF8_BOM) :]
            yield f"{path}:1", first.rstrip(b"\r\n")
            for number, raw in enumerate(stream, 2):
                yield f"{path}:{number}", raw.rstrip(b"\r\n")
        finally:
            if path != STDIN:
                stream.close()


def count_lines(paths: tuple[str, ...]) -> int | None:
    """The lines of the inputs, for a progress bar; None (unknown) unless every input is a regular file, which can
    be read twice (a pipe's lines would be gone)."""
    if not all(path != STDIN and Path(path).is_file() for path in paths):
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
