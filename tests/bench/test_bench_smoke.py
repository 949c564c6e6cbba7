"""The benchmark programs at toy sizes: each runs and prints its figures as one JSON line (`make bench` runs them at
full size; their figures are recorded in bench/README.md, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INGEST = ["--events", "3000", "--users", "300", "--groups", "30", "--repeat", "2"]
PROGRAMS = [
    ("ingest", INGEST, {"events_per_s", "floor_ratio", "cpu_seconds", "runs", "one_cpu_events_per_s", "one_cpu_runs"}),
    # of the database ingest writes (run first, below)
    ("replay", ["--repeat", "2"], {"events_per_s", "runs", "one_cpu_events_per_s", "one_cpu_runs"}),
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
    if "--repeat" in args:  # every run is listed
        repeat = int(args[args.index("--repeat") + 1])
        for runs in ("runs", "one_cpu_runs", "runs_2000"):
            if runs in line:
                assert len(line[runs]) == repeat, line
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


def test_the_reported_run_is_the_median_not_the_best() -> None:
    from bench.ingest import median_run

    runs = [(100, 3.0, 1.0), (100, 1.0, 2.0), (100, 2.0, 3.0)]
    assert median_run(runs) == (100, 2.0, 3.0)
    assert median_run(runs[:2]) == (100, 3.0, 1.0)  # of two, the slower: no flattering average
