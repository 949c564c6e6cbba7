"""`licensing demo` as `make demo` runs it (`.venv/bin/licensing demo --db demo.db` in the project's directory):
names instead of ids, no cell cut short, the terminal's width kept, every suggested command runs as printed, and
nothing left behind but the database."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import LICENSING, assert_one_line_failure, clean_env

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
HIDDEN = re.compile(r"^  … (\d+) more: `(.+)` shows every row$")
BORDERS = "┏┃┡│└┓┩┘"
USERS = "200"  # the smallest demo tenant: every kind of problem, in a second


def demo_directory(tmp_path: Path) -> Path:
    """A directory like the project's after `make demo`'s install: `.venv/bin/licensing` in it."""
    project = tmp_path / "project"
    project.mkdir()
    (project / ".venv").symlink_to(LICENSING.parent.parent, target_is_directory=True)
    return project


def make_demo(project: Path, *args: str, columns: int = 100, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [".venv/bin/licensing", "demo", "--db", "demo.db", "--users", USERS, *args],
        cwd=project,
        env=clean_env(COLUMNS=str(columns), **env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def suggested_commands(stdout: str) -> list[str]:
    """The commands the demo suggests: the `Explore further` lines and the way to see rows a table left out."""
    lines = stdout.splitlines()
    hidden = [match.group(2) for match in map(HIDDEN.match, lines) if match]
    explore = lines[lines.index("Explore further") + 1 :]
    return hidden + [line.strip() for line in explore if line.startswith("    ")]


@pytest.mark.parametrize("columns", [80, 250])
def test_the_demo_names_everything_and_cuts_nothing_within_the_terminals_width(tmp_path: Path, columns: int) -> None:
    project = demo_directory(tmp_path)
    result = make_demo(project, columns=columns)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Groups that need attention" in out and "Rejected commands" in out
    assert GUID.search(out) is None, GUID.search(out)
    commands = suggested_commands(out)
    for line in out.splitlines():  # a suggested command stays on one line, to copy whole: the terminal wraps it
        assert len(line) <= columns or any(command in line for command in commands), line
    for line in out.splitlines():  # an ellipsis only where a table says how many rows it left out
        assert "…" not in line or HIDDEN.match(line), line
    for line in out.splitlines():  # no table cropped at the terminal's edge: each of its lines has its right border
        assert not line.startswith(tuple(BORDERS)) or line.rstrip()[-1] in BORDERS, line
    if columns >= 250:  # wide enough for these cells to stay on one line
        assert "Proxy address violation" in out and "sales@contoso.com also used by" in out
        # brackets in a message are text, not markup to drop
        assert "service plans [EXCHANGE_S_STANDARD], [EXCHANGE_S_ENTERPRISE] are mutually exclusive" in out


def test_every_suggested_command_runs_as_printed(tmp_path: Path) -> None:
    project = demo_directory(tmp_path)
    result = make_demo(project)
    assert result.returncode == 0, result.stderr
    commands = suggested_commands(result.stdout)
    assert any("--as-of" in command for command in commands)
    assert any(HIDDEN.match(line) for line in result.stdout.splitlines())  # the default demo shows examples
    for command in commands:
        assert command.startswith((".venv/bin/licensing ", ".venv/bin/sqlite-utils ")), command
        ran = subprocess.run(["bash", "-c", command], cwd=project, env=clean_env(), capture_output=True, text=True)
        assert ran.returncode == 0, f"{command}: {ran.stderr}"


def test_every_row_is_shown_with_all(tmp_path: Path) -> None:
    project = demo_directory(tmp_path)
    examples = make_demo(project).stdout
    hidden = sum(int(match.group(1)) for match in map(HIDDEN.match, examples.splitlines()) if match)
    everything = make_demo(project, "--all", columns=200).stdout
    assert not any(HIDDEN.match(line) for line in everything.splitlines())
    rows = [line for line in everything.splitlines() if line.startswith("│ ") and not line.startswith("│  ")]
    shown = [line for line in examples.splitlines() if line.startswith("│ ") and not line.startswith("│  ")]
    product_rows = 9  # the two outputs' product usage tables are alike
    assert len(rows) - product_rows > 0 and hidden > 0
    assert len(rows) - len(shown) >= hidden  # wider cells wrap less: a row is at least one line


def test_the_demo_leaves_nothing_behind_but_its_database(tmp_path: Path) -> None:
    project = demo_directory(tmp_path)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    result = make_demo(project, TMPDIR=str(temporary))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(project)) == [".venv", "demo.db"]  # no -wal, -shm, events file
    assert os.listdir(temporary) == []
    written = make_demo(project, "--events-file", "events.jsonl")
    assert written.returncode == 0 and (project / "events.jsonl").stat().st_size > 0


def test_the_demo_does_not_overwrite_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    project = demo_directory(tmp_path)
    (project / "demo.db").write_text("not a database\n")
    assert_one_line_failure(make_demo(project), "demo.db", "not a licensing database")
    assert (project / "demo.db").read_text() == "not a database\n"
