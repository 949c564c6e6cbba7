"""Shared bits of the benchmark programs: workload files, timing, RSS, and reporting (JSON line + table)."""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bench.workload import Workload

T = TypeVar("T")

# Workload files and databases; BENCH_OUT moves them (the smoke test runs the programs in a temporary directory).
OUT = Path(os.environ.get("BENCH_OUT") or Path(__file__).resolve().parent / "out")


def workload_file(users: int, groups: int, events: int, seed: int = 1) -> Path:
    """The workload as JSON Lines, generated once and cached under bench/out (not timed)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"workload-u{users}-g{groups}-e{events}-s{seed}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        Workload(users, groups, events, seed).write(tmp)
        tmp.rename(path)
        # Written back now, not while a timed ingest is running: its WAL checkpoints would wait behind ~200 MB of
        # the benchmark's own writes.
        os.sync()
    return path


def fresh_db(name: str) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def floor_rate(path: Path) -> float:
    """Events/s of merely reading and JSON-parsing the file: the floor any ingest is compared with."""
    started = time.perf_counter()
    count = 0
    with open(path, "rb") as f:
        for line in f:
            json.loads(line)
            count += 1
    return count / (time.perf_counter() - started)


def in_own_process(function: Callable[..., T], *args: object, one_cpu: bool = False) -> T:
    """Run one measurement in a fresh interpreter: it inherits no heap, frozen objects or open database of another.

    `one_cpu`: the interpreter, and every process it starts, may only run on one CPU (the first this one may use).
    """
    initializer = None
    initargs: tuple[object, ...] = ()
    if one_cpu:
        initializer, initargs = os.sched_setaffinity, (0, {min(os.sched_getaffinity(0))})
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        return pool.submit(function, *args).result()


def can_pin() -> bool:
    """Whether a process can be held to one CPU here (Linux can; macOS cannot)."""
    return hasattr(os, "sched_setaffinity")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have ended (an ingest's writer process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def report(bench: str, figures: dict[str, Any]) -> None:
    """One JSON line on stdout (machine-readable), a readable table on stderr."""
    print(json.dumps({"bench": bench, **figures}), flush=True)
    width = max(len(k) for k in figures)
    print(f"\n{bench}", file=sys.stderr)
    for key, value in figures.items():
        shown = f"{value:,.3f}" if isinstance(value, float) else f"{value:,}" if isinstance(value, int) else value
        print(f"  {key:<{width}}  {shown}", file=sys.stderr)
