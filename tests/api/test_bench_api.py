"""`bench/api.py` at a toy size: it runs, and prints its figures as one JSON line (the full-size figures are reported
from `make bench`, never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOY = ["--users", "300", "--batch", "500", "--requests", "20", "--overflow", "250"]


def test_api_benchmark_prints_one_json_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.api", *TOY],
        cwd=ROOT,
        env={**os.environ, "BENCH_OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "api" and figures["events"] > 1000
    for read in ("groups_with_errors", "members_with_errors_999", "user_license_states"):
        assert 0 < figures[f"{read}_p50_ms"] <= figures[f"{read}_p99_ms"], figures
    assert figures["http_events_per_s"] > 0 and figures["http_to_file_ratio"] > 0
    assert "api" in result.stderr  # the readable table
