"""CloudEvents over HTTP: structured, batch and JSON Lines posts, with bad events mixed in, leave the same state as
`licensing ingest` of the same events; the answer counts them as ingest does; a malformed body changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.api.conftest import Server, export, ingest, licensing, start_server, stop_server

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
JSON_LINES = "application/x-ndjson"


def bad_events(good: list[bytes]) -> dict[str, bytes]:
    """Lines ingest dead-letters (or finds duplicate), built from the demo's own events."""
    first = json.loads(good[10])
    missing_time = {k: v for k, v in first.items() if k != "time"} | {"id": "bad-no-time"}
    unknown_type = first | {"id": "bad-type", "type": "UserTeleported"}
    bad_data = first | {"id": "bad-data", "data": {"userId": 42}}
    return {
        "not JSON": b'{"specversion": "1.0", "id": ',
        "missing time": json.dumps(missing_time).encode(),
        "unknown type": json.dumps(unknown_type).encode(),
        "bad data": json.dumps(bad_data).encode(),
        "duplicate": good[10],
    }


def mixed_log(good: list[bytes]) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """The demo events with bad ones between them, in three runs: posted one by one, as a batch, as JSON Lines."""
    bad = bad_events(good)
    structured = good[:40] + [bad["not JSON"], bad["missing time"]] + good[40:60]
    batch = good[60:3000] + [bad["unknown type"], bad["duplicate"], bad["bad data"]] + good[3000:4000]
    lines = good[4000:] + [bad["not JSON"], bad["duplicate"]]
    return structured, batch, lines


def post(client: httpx.Client, content_type: str, body: bytes) -> dict[str, int]:
    answer = client.post("/events", content=body, headers={"content-type": content_type})
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()
    return counts


def test_posts_with_bad_events_give_the_state_of_ingest(tmp_path: Path, demo_events_file: Path) -> None:
    good = demo_events_file.read_bytes().splitlines()
    structured, batch, lines = mixed_log(good)

    by_file = tmp_path / "by-file.db"
    log = tmp_path / "mixed.jsonl"
    log.write_bytes(b"\n".join(structured + batch + lines) + b"\n")
    result = licensing("ingest", str(log), "--db", str(by_file))
    assert result.returncode == 0, result.stderr
    assert "dead-lettered 5" in result.stderr and "duplicates 2" in result.stderr

    server = start_server(tmp_path / "by-http.db")
    try:
        with server.client() as client:
            answers = [post(client, STRUCTURED, event) for event in structured]
            answers.append(post(client, BATCH, b"[" + b",".join(batch) + b"]"))
            answers.append(post(client, JSON_LINES, b"\n".join(lines)))
    finally:
        stop_server(server)

    total = {key: sum(a[key] for a in answers) for key in ("accepted", "duplicates", "stale", "deadLettered")}
    assert total == {"accepted": len(good), "duplicates": 2, "stale": 0, "deadLettered": 5}
    assert answers[40]["deadLettered"] == 1 and "not valid JSON" in answers[40]["deadLetterReasons"][0]
    rejected = answers[-1]["rejected"]  # the demo's refused commands come late in its month
    assert rejected > 0 and len(answers[-1]["rejections"]) == min(rejected, 100)
    document = export(tmp_path / "by-http.db")
    assert document == export(by_file)
    assert sum(a["rejected"] for a in answers) == len(document["rejectedCommands"])


def test_a_body_that_is_not_what_its_type_says_changes_nothing(own_server: Server, demo_events_file: Path) -> None:
    before = export(own_server.db)
    event = demo_events_file.read_bytes().splitlines()[0]
    with own_server.client() as client:
        not_an_array = client.post("/events", content=event, headers={"content-type": BATCH})
        not_json = client.post("/events", content=b"[{]", headers={"content-type": BATCH})
        empty = client.post("/events", content=b"", headers={"content-type": STRUCTURED})
        unknown_type = client.post("/events", content=event, headers={"content-type": "text/csv"})
    for answer, status in ((not_an_array, 400), (not_json, 400), (empty, 400), (unknown_type, 415)):
        assert answer.status_code == status, answer.text
        error = answer.json()["error"]
        assert error["code"] and error["message"] and "\n" not in error["message"]
        assert "Traceback" not in answer.text
    assert export(own_server.db) == before


def test_posting_the_same_batch_again_changes_nothing(tmp_path: Path, demo_events_file: Path) -> None:
    db = tmp_path / "twice.db"
    ingest(db, demo_events_file)
    before = export(db)
    server = start_server(db)
    try:
        with server.client() as client:
            again = post(client, JSON_LINES, demo_events_file.read_bytes())
    finally:
        stop_server(server)
    assert again["accepted"] == 0 and again["duplicates"] == len(demo_events_file.read_bytes().splitlines())
    assert export(db) == before
