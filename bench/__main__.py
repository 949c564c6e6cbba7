"""`make bench`: run every benchmark in its own process; each prints one JSON line on stdout."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = [
    "ingest",
    "replay",
    "group_pass",
    "scale",
    "memory",
    "many_groups",
    "many_tenants",
    "kafka",
    "api",
    "graph_import",
]


def main() -> None:
    wanted = sys.argv[1:] or BENCHMARKS
    failed = []
    for name in wanted:
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"])
        if result.returncode:
            failed.append(name)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
