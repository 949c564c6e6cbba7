"""The dashboard's tests: the real `licensing serve` of tests/api, and the Debian package's Chromium driven by
Playwright (no browser download). Without /usr/bin/chromium the browser tests fail, saying what to install: a
missing browser never passes as a skipped test (`make test` installs it on Debian as root)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Playwright, sync_playwright

from tests.api.conftest import demo_events_file, demo_server, own_server  # noqa: F401  (fixtures)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def playwright() -> Iterator[Playwright]:
    """Playwright's driver for one test: while it runs, its event loop is the thread's, so it must not outlive the
    test (a later `asyncio.run` would fail)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """A fresh Chromium profile per test."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "chromium-profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_FLAGS,
        viewport={"width": 1300, "height": 900},
    )
    context.set_default_timeout(30_000)
    yield context
    context.close()
