"""The demo suggests the analyst's commands (tests/cli/test_demo.py runs every suggestion as printed)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_demo import demo_directory, make_demo, suggested_commands


def test_the_demo_suggests_the_analysts_commands_for_a_user_in_error(tmp_path: Path) -> None:
    result = make_demo(demo_directory(tmp_path))
    assert result.returncode == 0, result.stderr
    tools = [command.split()[1] for command in suggested_commands(result.stdout) if "--tenant" in command]
    assert tools[-5:] == ["explain", "timeline", "report", "fix-plan", "what-if"]
    explain = next(command for command in suggested_commands(result.stdout) if " explain " in command)
    assert "--user" in explain and "@contoso.com" in explain
