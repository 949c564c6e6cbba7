"""`licensing import graph`: a snapshot folder into input events, appended to the log and decided.

Everything is read and checked before the first event is written, so a snapshot with a problem imports nothing.
A tenant already in the database receives only what differs from the snapshot: importing the same snapshot twice
appends nothing. Event ids name the snapshot (its digest), the log's length when the import began and the event's
position, so an import never reuses the id of an earlier event (which would make it a duplicate).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from processor.catalog_file import shipped_catalog
from processor.embedded import eventlog
from processor.embedded.runtime import EmbeddedRuntime, IngestSummary
from processor.graphsync.directory import Directory, database_directory, snapshot_directory
from processor.graphsync.history import read_history
from processor.graphsync.plan import Step, difference_steps, first_import_steps
from processor.graphsync.products import ProductCheck, check_products
from processor.graphsync.snapshot import SnapshotError, read_snapshot

SOURCE = "/graph-import"


@dataclass(slots=True)
class ImportResult:
    first: bool  # the tenant was new to the database
    events: int  # appended
    summary: IngestSummary
    counts: dict[str, int] = field(default_factory=dict)  # appended events per type
    notices: list[str] = field(default_factory=list)  # what was added or left out, one line each


def import_snapshot(
    conn: sqlite3.Connection,
    folder: str | Path,
    tenant: str,
    skip_unknown: bool = False,
    time: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import the snapshot into `tenant`; SnapshotError (one line) when it cannot, before anything is written."""
    snapshot = read_snapshot(folder)
    products = check_products(snapshot, shipped_catalog())
    problems = products.problems()
    if problems and not skip_unknown:
        raise SnapshotError("; ".join(problems) + " (--skip-unknown imports the rest)")
    moment = time or snapshot.time or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    desired = snapshot_directory(snapshot, products)
    _drop_unknown_plans(desired, products)
    runtime = EmbeddedRuntime(conn)  # creates the read models of a new database
    history = read_history(conn, tenant, shipped_catalog())
    current = database_directory(conn, tenant, history)
    if current is None:
        steps = first_import_steps(snapshot, desired, products.known_sku, moment)
    else:
        steps = difference_steps(current, desired, snapshot, history, products.known_sku, moment)
    result = ImportResult(first=current is None, events=len(steps), summary=IngestSummary())
    result.notices = _notices(products, skip_unknown)
    for kind, _, _ in steps:
        result.counts[kind] = result.counts.get(kind, 0) + 1
    if steps:
        prefix = f"graph-{snapshot.digest[:16]}-{eventlog.last_seq(conn)}"
        result.summary = runtime.ingest(_lines(steps, tenant, prefix, str(folder)), progress)
    return result


def _lines(steps: list[Step], tenant: str, prefix: str, origin: str) -> Iterator[tuple[str, bytes]]:
    for number, (kind, data, time) in enumerate(steps, 1):
        event = {
            "specversion": "1.0",
            "id": f"{prefix}-{number}",
            "source": SOURCE,
            "type": kind,
            "time": time,
            "tenant": tenant,
            "data": data,
        }
        yield f"{origin}#{number}", orjson.dumps(event)


def _drop_unknown_plans(directory: Directory, products: ProductCheck) -> None:
    """Disabled plans no known SKU contains disable nothing of ours: left out (only with --skip-unknown)."""
    for licenses in [*directory.direct.values(), *directory.group_licenses.values()]:
        for sku_id, plans in licenses.items():
            licenses[sku_id] = tuple(plan for plan in plans if products.known_plan(sku_id, plan))


def _notices(products: ProductCheck, skip_unknown: bool) -> list[str]:
    notices = []
    if products.new_plans:
        names = ", ".join(sorted({name for _, _, name in products.new_plans}))
        notices.append(f"added {len(products.new_plans)} service plans the catalogue lacks (no rules known): {names}")
    if products.unassigned_unknown:
        notices.append(f"left out {len(products.unassigned_unknown)} subscribed SKUs unknown to the catalogue")
    if skip_unknown:
        notices += [f"left out {problem}" for problem in products.problems()]
    return notices
