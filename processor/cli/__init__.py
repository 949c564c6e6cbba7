"""The `licensing` command line."""

from processor.cli import serve  # noqa: F401  (registers `licensing serve`)
from processor.cli.app import main

__all__ = ["main"]
