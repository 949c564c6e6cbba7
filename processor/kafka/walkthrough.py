"""`make kafka-demo`: the "Running on Kafka" steps, run for you, and everything it started stopped again.

The dev broker on a free port of 127.0.0.1, the topics, a worker and the projector (as `licensing` processes, their
logs in a temporary directory), then `publish` of the file, `wait` until it is decided and projected, and `export`
of the tenant from the projector's database, printed. Needs the dev extra (the broker); the Makefile installs it.

    python -m processor.kafka.walkthrough examples/quickstart.jsonl --tenant contoso --db kafka-demo.db
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from processor.kafka.broker import BrokerUnavailable, free_port, start_broker

LICENSING = str(Path(sys.executable).parent / "licensing")
STEP_TIMEOUT = 120.0


def step(*args: str, capture: bool = False) -> str:
    """One `licensing` call, shown as it would be typed; a failure ends the walk-through with its message."""
    print(f"$ licensing {' '.join(args)}", file=sys.stderr, flush=True)
    result = subprocess.run(
        [LICENSING, *args], stdout=subprocess.PIPE if capture else None, timeout=STEP_TIMEOUT, stdin=subprocess.DEVNULL
    )
    if result.returncode:
        raise SystemExit(f"kafka-demo: `licensing {args[0]}` failed (exit {result.returncode})")
    return result.stdout.decode() if capture else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", type=Path, help="JSON Lines file to publish")
    parser.add_argument("--tenant", default="contoso", help="tenant to export (default contoso)")
    parser.add_argument("--db", type=Path, default=Path("kafka-demo.db"), help="the projector's database (made anew)")
    args = parser.parse_args()
    if not args.events.is_file():
        raise SystemExit(f"kafka-demo: no such file: {args.events}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.db}{suffix}").unlink(missing_ok=True)

    logs = Path(tempfile.mkdtemp(prefix="licensing-kafka-demo-"))
    port = free_port()
    bootstrap = ("--bootstrap-server", f"127.0.0.1:{port}")
    try:
        broker = start_broker(port, log=logs / "broker.log")
    except BrokerUnavailable as exc:
        raise SystemExit(f"kafka-demo: {exc}") from None
    print(f"$ licensing broker --port {port} &      # Tansu, memory only (log: {logs / 'broker.log'})", file=sys.stderr)
    started: list[subprocess.Popen[bytes]] = []
    try:
        step("topics", *bootstrap, "--partitions", "4")
        for name, command in (
            ("worker", ["worker", *bootstrap, "--datadir", str(logs / "worker")]),
            ("projector", ["project", *bootstrap, "--db", str(args.db)]),
        ):
            print(f"$ licensing {' '.join(command)} &      # log: {logs / name}.log", file=sys.stderr)
            with open(logs / f"{name}.log", "wb") as log:
                started.append(
                    subprocess.Popen(
                        [LICENSING, *command], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
        step("publish", *bootstrap, str(args.events))
        step("wait", *bootstrap, "--db", str(args.db), "--timeout", "90")
        sys.stdout.write(step("export", "--tenant", args.tenant, "--db", str(args.db), capture=True))
        print(f"kafka-demo: decided on Kafka and projected into {args.db}; stopping what it started", file=sys.stderr)
    finally:
        for process in started:
            _stop(process)
        broker.terminate()
        broker.wait(10)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    main()
