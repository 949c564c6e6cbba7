"""The graph_import benchmark at toy size: it runs and prints its figures as one JSON line (never asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_prints_one_json_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.graph_import", "--users", "300", "--repeat", "1"],
        cwd=ROOT,
        env={**os.environ, "BENCH_OUT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    figures = json.loads(line)
    assert figures["bench"] == "graph_import" and figures["differences"] == 0
    assert {"seconds", "events_per_s", "conformance_seconds", "runs"} <= figures.keys()
