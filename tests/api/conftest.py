"""Real processes for the server's tests: a demo tenant ingested by `licensing ingest`, `licensing serve` on a free
port of 127.0.0.1, and `licensing export` of the same database to compare the answers with."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from processor.demo.generator import generate_demo_events, write_jsonl

LICENSING = Path(sys.executable).parent / "licensing"
TENANT = "contoso"
DEMO_USERS = 1200  # more than a Graph page can hold (999)


def licensing(
    *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LICENSING), *args],
        input=input.decode() if input is not None else None,
        capture_output=True,
        text=True,
        timeout=300,
        env=env or clean_env(),
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LICENSING_DB", "LICENSING_TOKEN")}
    env.update(extra)
    return env


def ingest(db: Path, events_file: Path) -> None:
    result = licensing("ingest", str(events_file), "--db", str(db))
    assert result.returncode == 0, result.stderr


def export(db: Path, tenant: str = TENANT) -> dict[str, Any]:
    result = licensing("export", "--tenant", tenant, "--db", str(db))
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str  # http://127.0.0.1:PORT
    db: Path
    token: str | None = None

    def graph(self, tenant: str = TENANT) -> str:
        return f"{self.url}/tenants/{tenant}/v1.0"

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def start_server(db: Path, *args: str, env: dict[str, str] | None = None, token: str | None = None) -> Server:
    port = free_port()
    command = [str(LICENSING), "serve", "--db", str(db), "--port", str(port), *args]
    process = subprocess.Popen(
        command, env=env or clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    server = Server(process, f"http://127.0.0.1:{port}", db, token)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"licensing serve exited {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.1)
    stop_server(server)
    raise AssertionError("licensing serve did not listen within 60 s")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def demo_events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo-events.jsonl"
    write_jsonl(generate_demo_events(users=DEMO_USERS), path)
    return path


def demo_database(directory: Path, events_file: Path) -> Path:
    db = directory / "demo.db"
    ingest(db, events_file)
    return db


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory, demo_events_file: Path) -> Iterator[Server]:
    """One server on the demo tenant for the tests that only read."""
    server = start_server(demo_database(tmp_path_factory.mktemp("served"), demo_events_file))
    yield server
    stop_server(server)


@pytest.fixture
def own_server(tmp_path: Path, demo_events_file: Path) -> Iterator[Server]:
    """A server of its own on a fresh demo database, for a test that sends commands."""
    server = start_server(demo_database(tmp_path, demo_events_file))
    yield server
    stop_server(server)
