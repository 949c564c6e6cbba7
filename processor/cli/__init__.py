"""The `licensing` command line: the group (`app`) and its commands, one module per group of them."""

from processor.cli import demo, graph, kafka, serve, store
from processor.cli.app import main

__all__ = ["demo", "graph", "kafka", "main", "serve", "store"]
