"""Fixtures of the Graph snapshot tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.graphsync.fourth_coffee import FIXTURE


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    """A copy of the Fourth Coffee snapshot that a test may edit."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "snapshot"))
