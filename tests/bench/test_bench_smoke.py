"""The benchmark programs at toy sizes: each runs and prints its figures as one JSON line (`make bench` runs them at
full size; their figures are recorded in bench/README.md, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    ("many_groups", ["--sizes", "50,200", "--repeat", "2"], {"events_per_s_50", "events_per_s_200", "growth_ratio"}),
    (
        "many_tenants",
        ["--sizes", "2000,4000", "--tenants", "3", "--events-per-tenant", "10", "--repeat", "2"],
        {"seconds_2000", "seconds_4000", "growth", "runs_2000", "runs_4000"},
    ),
    ("graph_import", ["--users", "300", "--repeat", "1"], {"seconds", "events_per_s", "conformance_seconds", "runs"}),
    (
        "api",
        ["--users", "300", "--batch", "500", "--requests", "20", "--overflow", "250"],
        {"http_events_per_s", "http_to_file_ratio", "groups_with_errors_p50_ms", "groups_with_errors_p99_ms"},
    ),
]


def _consistent(name: str, line: dict[str, Any]) -> None:
    """What a program's figures must say of themselves, whatever the machine."""
    if name == "graph_import":
        assert line["differences"] == 0, line  # a snapshot of our own tenant imports to itself
    if name == "many_tenants":
        assert line["tenants"] == 3, line
    if name == "api":
        for read in ("groups_with_errors", "members_with_errors_999", "user_license_states"):
            assert 0 < line[f"{read}_p50_ms"] <= line[f"{read}_p99_ms"], line
        assert line["http_events_per_s"] > 0 and line["http_to_file_ratio"] > 0, line


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
        for runs in ("runs", "one_cpu_runs", "runs_2000", "runs_4000", "runs_50", "runs_200"):
            if runs in line:
                assert len(line[runs]) == repeat, line
    _consistent(name, line)
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
