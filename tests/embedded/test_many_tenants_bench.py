"""bench/many_tenants.py at toy sizes: it runs and prints its figures as one JSON line (never asserted here; `make
bench` runs it at full size)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_many_tenants_benchmark_prints_one_json_line(tmp_path: Path) -> None:
    args = ["--sizes", "2000,4000", "--tenants", "3", "--events-per-tenant", "10", "--repeat", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.many_tenants", *args],
        cwd=ROOT,
        env={**os.environ, "BENCH_OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "many_tenants" and figures["tenants"] == 3
    assert {"seconds_2000", "seconds_4000", "growth"} <= figures.keys()
    assert len(figures["runs_2000"]) == len(figures["runs_4000"]) == 2
