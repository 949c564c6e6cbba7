"""The `licensing` command line."""

from processor.cli import graph  # noqa: F401  (registers snapshot, import graph, conformance)
from processor.cli.app import main

__all__ = ["main"]
