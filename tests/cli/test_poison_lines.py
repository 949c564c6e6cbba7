"""Lines that validated once but could not be stored or read back (poison pills) are dead letters now: an impossible
time, and integers past what SQLite and the encoders hold. The rest of the file is ingested, every retry too."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from tests.cli.test_cli import event, export, ok, run, summary_counts, tenant_events


def with_poison(path: Path, poison: list[dict[str, Any]]) -> Path:
    """The hand-written tenant with the poison lines in the middle."""
    events = tenant_events()
    middle = len(events) // 2
    path.write_text("".join(json.dumps(e) + "\n" for e in events[:middle] + poison + events[middle:]))
    return path


def dead_letters(db: Path) -> dict[str, str]:
    conn = sqlite3.connect(db)
    try:
        return {
            json.loads(body)["id"]: reason for reason, body in conn.execute("SELECT reason, body FROM dead_letters")
        }
    finally:
        conn.close()


def clean(tmp_path: Path) -> dict[str, Any]:
    source = tmp_path / "clean.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in tenant_events()))
    db = tmp_path / "clean.db"
    ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path))
    return export(db, "contoso", tmp_path)


def test_huge_integers_are_dead_lettered_and_the_rest_ingested(tmp_path: Path) -> None:
    poison = [
        event("huge-seats", 10.5, "SubscriptionChanged", skuId="POWER_BI_PRO", prepaidUnits={"enabled": 2**63}),
        event(
            "huge-sum",
            10.6,
            "SubscriptionChanged",
            skuId="EMS",
            prepaidUnits={"enabled": 2**62, "warning": 2**62, "suspended": 2**62},
        ),
        event("huge-version", 10.7, "GroupMemberAdded", groupId="G_BETA", memberId="u4", version=2**64),
    ]
    source = with_poison(tmp_path / "poison.jsonl", poison)
    db = tmp_path / "poison.db"
    for _ in range(2):  # a retry gets as far
        result = ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path))
    assert summary_counts(result.stderr)["duplicates"] == len(tenant_events())
    letters = dead_letters(db)
    assert set(letters) == {"huge-seats", "huge-sum", "huge-version"}
    assert "prepaidUnits.enabled" in letters["huge-seats"] and "1000000000" in letters["huge-seats"]
    assert "prepaidUnits.enabled" in letters["huge-sum"]
    assert "version" in letters["huge-version"] and "9223372036854775807" in letters["huge-version"]
    assert export(db, "contoso", tmp_path) == clean(tmp_path)


def test_an_impossible_time_is_dead_lettered_and_time_travel_still_works(tmp_path: Path) -> None:
    poison = [
        event("bad-time", 10.5, "UserCreated", userId="u-bad", usageLocation="US"),
        event("lower-case-time", 10.6, "UserCreated", userId="u-lower", usageLocation="US"),
    ]
    poison[0]["time"] = "2026-13-45T25:61:61Z"
    poison[1]["time"] = poison[1]["time"].replace("T", "t").replace("Z", "z")
    source = with_poison(tmp_path / "poison.jsonl", poison)
    db = tmp_path / "poison.db"
    counts = summary_counts(ok(run("ingest", str(source), "--db", str(db), cwd=tmp_path)).stderr)
    assert (counts["accepted"], counts["dead-lettered"]) == (len(tenant_events()) + 1, 1)
    assert "there is no month 13" in dead_letters(db)["bad-time"]

    users = {u["id"] for u in export(db, "contoso", tmp_path, "--as-of", "2026-01-05T10:11:00Z")["users"]}
    assert "u-lower" in users and "u-bad" not in users
    earlier = {u["id"] for u in export(db, "contoso", tmp_path, "--as-of", "2026-01-05T10:10:00Z")["users"]}
    assert "u-lower" not in earlier
