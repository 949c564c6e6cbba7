"""An id sent again: the same line is a duplicate (a no-op), another line is an IdConflict, dead-lettered with both
digests, never dropped silently; wherever the first copy is (the same chunk, an earlier chunk or batch of the same
ingest, a batch the writer process has not committed yet, an earlier ingest)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded import runtime as embedded
from processor.embedded.database import SCHEMA_VERSION, close_database, open_database
from processor.embedded.eventlog import line_digest
from processor.embedded.runtime import EmbeddedRuntime
from projections.export import tenant_document

CONTOSO = generate_demo_events(users=200)


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def _changed(event: dict[str, Any]) -> dict[str, Any]:
    """The event with another source: other content under the same id."""
    return {**event, "source": "/somewhere-else"}


@pytest.mark.parametrize(
    ("first_copy", "resend_at", "writer"),
    [
        ("same chunk", 150, "inline"),
        ("earlier chunk of the batch", 900, "inline"),
        ("earlier batch", 1100, "inline"),
        ("batch in the writer process", 1100, "process"),
    ],
)
def test_an_id_resent_with_another_line_within_one_ingest_is_an_id_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_copy: str, resend_at: int, writer: str
) -> None:
    monkeypatch.setattr(embedded, "CHUNK", 400)
    events = CONTOSO[:1200]
    conflicting, duplicate = _changed(events[100]), events[101]
    lines = [_line(event) for event in events]
    lines[resend_at:resend_at] = [_line(conflicting), _line(duplicate)]
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    summary = runtime.ingest([(f"file:{n}", line) for n, line in enumerate(lines, 1)], batch_size=1000, writer=writer)  # type: ignore[arg-type]
    assert (summary.duplicates, summary.id_conflicts, summary.dead_lettered) == (1, 1, 1), first_copy
    assert summary.accepted + summary.stale == len(events)
    _assert_dead_lettered(runtime.conn, conflicting, f"file:{resend_at + 1}", events[100])

    reference = EmbeddedRuntime(open_database(tmp_path / "reference.db"))
    reference.ingest([("file", _line(event)) for event in events])
    assert tenant_document(runtime.conn, "contoso") == tenant_document(reference.conn, "contoso")


def test_an_id_of_an_earlier_ingest_resent_with_another_line_is_an_id_conflict(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    runtime.ingest([("day1", _line(event)) for event in CONTOSO[:500]])
    expected = tenant_document(runtime.conn, "contoso")
    again = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    summary = again.ingest([("day2:1", _line(_changed(CONTOSO[42]))), ("day2:2", _line(CONTOSO[43]))])
    assert (summary.accepted, summary.duplicates, summary.id_conflicts, summary.dead_lettered) == (0, 1, 1, 1)
    assert "id conflicts 1" in summary.line() and "duplicates 1," in summary.line()
    _assert_dead_lettered(again.conn, _changed(CONTOSO[42]), "day2:1", CONTOSO[42])
    assert tenant_document(again.conn, "contoso") == expected  # the logged event stays as it was


def test_an_id_logged_before_lines_had_digests_is_a_duplicate_whatever_its_line(tmp_path: Path) -> None:
    """Ids logged by layout 3 have no digest: unknown, so a resend under them is taken for a duplicate."""
    db = tmp_path / "log.db"
    runtime = EmbeddedRuntime(open_database(db))
    runtime.ingest([("day1", _line(event)) for event in CONTOSO[:300]])
    close_database(runtime.conn)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE event_ids SET digest = NULL WHERE id = ?", (CONTOSO[7]["id"],))
    conn.commit()
    conn.close()
    summary = EmbeddedRuntime(open_database(db)).ingest([("day2", _line(_changed(CONTOSO[7])))])
    assert (summary.duplicates, summary.id_conflicts, summary.dead_lettered) == (1, 0, 0)


def test_event_ids_keep_the_digest_of_each_events_line(tmp_path: Path) -> None:
    runtime = EmbeddedRuntime(open_database(tmp_path / "log.db"))
    lines = [_line(event) for event in CONTOSO[:300]]
    runtime.ingest([("day1", line) for line in lines])
    stored = dict(runtime.conn.execute("SELECT id, digest FROM event_ids WHERE tenant = 'contoso'").fetchall())
    assert stored == {json.loads(line)["id"]: line_digest(line) for line in lines}
    assert runtime.conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def _assert_dead_lettered(
    conn: sqlite3.Connection, conflicting: dict[str, Any], origin: str, logged: dict[str, Any]
) -> None:
    ((stored_origin, reason, body),) = conn.execute("SELECT origin, reason, body FROM dead_letters").fetchall()
    assert (stored_origin, bytes(body)) == (origin, _line(conflicting))
    assert reason.startswith(f"IdConflict: id {conflicting['id']!r} is logged with another line")
    for line in (_line(logged), _line(conflicting)):  # both digests, in hexadecimal
        assert f"{line_digest(line):08x}" in reason


def test_looking_ids_up_searches_the_index_for_each_id(tmp_path: Path) -> None:
    """A lookup walks its array of ids and finds each in the index, never the tenant's logged ids one by one (a
    plain join did that per chunk: an ingest quadratic in the tenant's size)."""
    from processor.embedded.eventlog import KNOWN_IDS

    conn = open_database(tmp_path / "log.db")
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + KNOWN_IDS.format(digest="digest"), ("[]", "t"))]
    assert plan[0].startswith("SCAN j") and plan[1] == "SEARCH e USING PRIMARY KEY (tenant=? AND id=?)", plan
