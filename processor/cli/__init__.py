"""The `licensing` command line."""

from processor.cli import verify as _verify  # noqa: F401  (registers `licensing verify`)
from processor.cli.app import main

__all__ = ["main"]
