"""The `licensing` command line."""

from processor.cli.app import main

__all__ = ["main"]
