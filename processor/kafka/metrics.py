"""Prometheus metrics of the worker and the projector, and the HTTP endpoint that serves them.

`GET /metrics` is the Prometheus text format (prometheus-client, with its process collector: RSS, CPU seconds);
`GET /ready` answers 200 once the process is doing its job (a worker: in its consumer group, no partition being
recovered; the projector: consuming) and 503 before; `GET /live` answers 200 while the process serves at all.
The server is a small threaded HTTP server on its own daemon thread, so a long batch never delays a scrape.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, ProcessCollector, generate_latest

# ---- worker ----------------------------------------------------------------------------------------------------

WORKER = CollectorRegistry()
ProcessCollector(registry=WORKER)

EVENTS_DECIDED = Counter(
    "licensing_worker_events_decided",
    "Input messages decided (dead letters and duplicates included).",
    registry=WORKER,
)
DECISIONS_PUBLISHED = Counter(
    "licensing_worker_decisions_published", "Output events published to the decisions topic.", registry=WORKER
)
DEAD_LETTERS = Counter(
    "licensing_worker_dead_letters", "Input messages published to the dead-letter topic.", registry=WORKER
)
CONSUMER_LAG = Gauge(
    "licensing_worker_consumer_lag",
    "Input messages of the partition not decided yet (high watermark - next offset).",
    ["partition"],
    registry=WORKER,
)
PARTITIONS_ASSIGNED = Gauge(
    "licensing_worker_partitions_assigned", "Input partitions assigned to this worker.", registry=WORKER
)
RECOVERY_SECONDS = Gauge(
    "licensing_worker_recovery_seconds",
    "Time the last recovery of the partition took (snapshot load + tail).",
    ["partition"],
    registry=WORKER,
)
RECOVERY_TAIL = Gauge(
    "licensing_worker_recovery_tail_events",
    "Messages the last recovery of the partition read from the log.",
    ["partition"],
    registry=WORKER,
)
RECOVERIES = Counter(
    "licensing_worker_recoveries", "Partition recoveries, by what they started from.", ["start"], registry=WORKER
)
SNAPSHOT_OFFSET = Gauge(
    "licensing_worker_snapshot_offset",
    "Next offset the partition's latest snapshot covers.",
    ["partition"],
    registry=WORKER,
)
SNAPSHOT_SECONDS = Gauge(
    "licensing_worker_snapshot_seconds",
    "Time the last snapshot of the partition took to encode and write.",
    ["partition"],
    registry=WORKER,
)
SNAPSHOT_BYTES = Gauge(
    "licensing_worker_snapshot_bytes", "Size of the partition's latest snapshot.", ["partition"], registry=WORKER
)

# ---- projector -------------------------------------------------------------------------------------------------

PROJECTOR = CollectorRegistry()
ProcessCollector(registry=PROJECTOR)

DECISIONS_PROJECTED = Counter(
    "licensing_projector_decisions_applied", "Decisions applied to the read models.", registry=PROJECTOR
)
PROJECTOR_POSITION = Gauge(
    "licensing_projector_position",
    "Last decisions offset the read models hold, per partition.",
    ["partition"],
    registry=PROJECTOR,
)
PROJECTOR_LAG = Gauge(
    "licensing_projector_lag",
    "Decisions of the partition not projected yet (high watermark - position - 1).",
    ["partition"],
    registry=PROJECTOR,
)


def parse_address(address: str) -> tuple[str, int]:
    """`HOST:PORT` or `:PORT` (every interface) into (host, port); a clear ValueError otherwise."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"metrics address {address!r} is not HOST:PORT or :PORT")
    return host or "0.0.0.0", int(port)


class MetricsServer:
    """/metrics, /ready and /live on (host, port), served from a daemon thread until `close`."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, ready: Callable[[], bool]) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
                elif path == "/ready":
                    is_ready = ready()
                    self._send(200 if is_ready else 503, "text/plain", b"ready\n" if is_ready else b"not ready\n")
                elif path == "/live":
                    self._send(200, "text/plain", b"live\n")
                else:
                    self._send(404, "text/plain", b"not found: try /metrics, /ready or /live\n")

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return None  # scrapes are not log lines

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_metrics(address: str | None, registry: CollectorRegistry, ready: Callable[[], bool]) -> MetricsServer | None:
    """Start the endpoint if an address is given (`--metrics-address`); None otherwise."""
    if not address:
        return None
    host, port = parse_address(address)
    return MetricsServer(host, port, registry, ready)
