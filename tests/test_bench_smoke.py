"""The benchmark programs at toy sizes: each runs and prints its figures as one JSON line (`make bench` runs them at
full size; their figures are recorded in bench/README.md, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

INGEST = ["--events", "3000", "--users", "300", "--groups", "30"]
PROGRAMS = [
    ("ingest", INGEST, {"events_per_s", "floor_ratio", "cpu_seconds", "one_cpu_events_per_s"}),
    ("replay", [], {"events_per_s", "one_cpu_events_per_s"}),  # of the database ingest writes (run first, below)
    ("group_pass", ["--members", "500", "--repeat", "2"], {"seconds", "runs"}),
    ("scale", ["--sizes", "200,2000", "--events", "2000", "--repeat", "1"], {"flatness", "runs_2000"}),
    ("memory", ["--users", "2000"], {"bytes_per_user"}),
]


@pytest.mark.parametrize(("name", "args", "figures"), PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_program_prints_one_json_line(name: str, args: list[str], figures: set[str], tmp_path: Path) -> None:
    if name == "replay":
        assert _run("ingest", INGEST, tmp_path).returncode == 0
    result = _run(name, args, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    line = json.loads(lines[0])
    assert line["bench"] == name
    assert figures <= line.keys(), line
    assert name in result.stderr  # the readable table


def _run(name: str, args: list[str], out_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT,
        env={**os.environ, "BENCH_OUT": str(out_dir)},
        capture_output=True,
        text=True,
        timeout=600,
    )
