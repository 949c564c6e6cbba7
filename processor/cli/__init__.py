"""The `licensing` command line: the group (`app`) and its commands, one module per group of them."""

from processor.cli import analyst, demo, graph, kafka, serve, store, verify
from processor.cli.app import main

__all__ = ["analyst", "demo", "graph", "kafka", "main", "serve", "store", "verify"]
