"""Bit rot in the stored log: every flipped bit is caught, by reading (replay, ingest) and by `licensing verify`, and
no damaged block is ever decoded into events."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from processor.demo.generator import generate_demo_events
from processor.embedded import eventlog
from processor.embedded import runtime as embedded
from processor.embedded.database import close_database, open_database
from processor.embedded.errors import LogCorrupted
from processor.embedded.runtime import EmbeddedRuntime
from processor.embedded.verify import verify_log

LICENSING = str(Path(sys.executable).parent / "licensing")
FLIPS = 300


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real log: a 300-user demo tenant and a second tenant, in blocks of 100 events."""
    db = tmp_path_factory.mktemp("rot") / "pristine.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(eventlog, "BLOCK", 100)
        patch.setattr(embedded, "BATCH", 500)
        runtime = EmbeddedRuntime(open_database(db))
        lines = [json.dumps(e).encode() for e in generate_demo_events(users=300)]
        lines += [json.dumps(e).encode() for e in generate_demo_events(users=200, tenant="fabrikam")]
        runtime.ingest([("demo", line) for line in lines], writer="inline")
        close_database(runtime.conn)
    return db


def _copy(pristine: Path, to: Path) -> sqlite3.Connection:
    to.write_bytes(pristine.read_bytes())
    return sqlite3.connect(to, isolation_level=None)


def _flip(conn: sqlite3.Connection, table: str, column: str, first_seq: int, bit: int) -> None:
    """Flip one bit of a stored value: a byte string's bit, or an integer's."""
    (value,) = conn.execute(f"SELECT {column} FROM {table} WHERE first_seq = ?", (first_seq,)).fetchone()
    if isinstance(value, int):
        flipped: int | bytes = value ^ (1 << bit % 16)
    else:
        data = bytearray(value)
        data[bit // 8 % len(data)] ^= 1 << bit % 8
        flipped = bytes(data)
    conn.execute(f"UPDATE {table} SET {column} = ? WHERE first_seq = ?", (flipped, first_seq))


def _targets(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    blocks = [first for (first,) in conn.execute("SELECT first_seq FROM log_blocks")]
    places = [("log_blocks", "lines"), ("log_blocks", "digest"), ("log_blocks", "events")]
    places += [("decision_blocks", "outputs"), ("decision_blocks", "digest")]
    return [(table, column, first) for table, column in places for first in blocks]


def test_every_flipped_bit_is_found_by_verify_and_no_damaged_block_is_decoded(pristine: Path, tmp_path: Path) -> None:
    rng = random.Random(20261202)
    intact = verify_log(open_database(pristine, read_only=True))
    assert intact.damaged == [] and intact.blocks > 10
    pristine_conn = sqlite3.connect(pristine)
    originals = {first: lines for first, lines in eventlog.blocks(pristine_conn)}
    targets = _targets(pristine_conn)
    for n in range(FLIPS):
        table, column, first = rng.choice(targets)
        conn = _copy(pristine, tmp_path / f"flip-{n}.db")
        (size,) = conn.execute(f"SELECT length({column}) FROM {table} WHERE first_seq = ?", (first,)).fetchone()
        bit = rng.randrange(size * 8)
        _flip(conn, table, column, first, bit)
        where = f"flip {n}: bit {bit} of {table}.{column} of block {first}"

        check = verify_log(conn)
        assert [damage.first_seq for damage in check.damaged] == [first], where
        assert check.damaged[0].table == table, where

        decoded: list[tuple[int, list[bytes]]] = []
        with pytest.raises(LogCorrupted) as corrupted:
            if table == "log_blocks":
                decoded.extend(eventlog.blocks(conn))
            else:
                decoded.extend((seq, [raw]) for seq, raw, _ in eventlog.decided(conn))
        assert corrupted.value.first_seq == first, where
        assert str(first) in str(corrupted.value) and "licensing verify" in str(corrupted.value), where
        assert all(seq < first for seq, _ in decoded), f"{where}: a damaged block was decoded"
        if table == "log_blocks":
            assert all(lines == originals[seq] for seq, lines in decoded), where
        conn.close()
        (tmp_path / f"flip-{n}.db").unlink()


def test_a_damaged_block_stops_replay_and_ingest_with_its_name(pristine: Path, tmp_path: Path) -> None:
    conn = _copy(pristine, tmp_path / "damaged.db")
    blocks = [first for (first,) in conn.execute("SELECT first_seq FROM block_tenants WHERE tenant = 'fabrikam'")]
    damaged = blocks[len(blocks) // 2]
    _flip(conn, "log_blocks", "lines", damaged, 333)
    conn.close()
    runtime = EmbeddedRuntime(open_database(tmp_path / "damaged.db"))
    with pytest.raises(LogCorrupted, match=f"event log block of events {damaged}-{damaged + 99} is damaged"):
        runtime.replay()
    resent = json.dumps(generate_demo_events(users=200, tenant="fabrikam")[-1] | {"id": "new"}).encode()
    with pytest.raises(LogCorrupted, match=f"events {damaged}-"):  # loading fabrikam reads the damaged block
        EmbeddedRuntime(open_database(tmp_path / "damaged.db")).ingest([("day2", resent)])
    assert runtime.conn.execute("SELECT count(*) FROM event_ids WHERE id = 'new'").fetchone() == (0,)


def test_licensing_verify_lists_the_damaged_blocks_and_exits_1(pristine: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    conn = _copy(pristine, db)
    intact = subprocess.run([LICENSING, "verify", "--db", str(db)], capture_output=True, text=True, timeout=120)
    events = conn.execute("SELECT sum(events), count(*) FROM log_blocks").fetchone()
    assert (intact.returncode, intact.stdout) == (0, f"{events[1]} blocks, {events[0]} events: intact\n")
    _flip(conn, "log_blocks", "lines", 201, 1000)
    _flip(conn, "decision_blocks", "outputs", 401, 77)
    conn.close()
    before = db.read_bytes()
    found = subprocess.run([LICENSING, "verify", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert found.returncode == 1
    assert found.stdout.splitlines() == [
        "damaged: event log block of events 201-300: its bytes do not match their digest",
        "damaged: decisions log block of events 401-500: its bytes do not match their digest",
        f"{events[1]} blocks, {events[0]} events: 2 damaged",
    ]
    assert db.read_bytes() == before  # verify only reads
