"""The demo's "Explore further" hints, analyst commands included, run as printed."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def test_every_hint_the_demo_prints_runs_as_printed(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LICENSING_DB"}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"  # `licensing` and `sqlite-utils` as a shell finds them
    demo = subprocess.run(
        ["licensing", "demo", "--db", "demo.db", "--users", "200"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = demo.stdout.split("Explore further", 1)[1].splitlines()
    hints = [line.split("#", 1)[0].strip() for line in lines if line.strip().startswith(("licensing", "sqlite-utils"))]
    assert any(hint.startswith("licensing explain") for hint in hints)
    assert hints.index(next(h for h in hints if "fix-plan" in h)) < hints.index(
        next(h for h in hints if "what-if" in h)
    )
    for hint in hints:
        result = subprocess.run(shlex.split(hint), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{hint}\n{result.stderr}"
        assert "Traceback" not in result.stderr
