"""The `licensing` command line."""

from processor.cli import analyst  # noqa: F401  (registers the analyst's commands on `main`)
from processor.cli.app import main

__all__ = ["main"]
