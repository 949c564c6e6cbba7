"""Applying output events to the read models in SQLite, idempotently and in the caller's transaction.

Changes of a batch are coalesced per row (a 100,000-member group pass rewrites the product usage row once, not
100,000 times) and written with executemany. Each read model's position is written in the same transaction as its
rows, and events at or below that position are skipped, so applying an output twice changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, cast

import sqlite_utils

from projections.models import READ_MODELS, Output, ReadModel, Row, detail_key

POSITIONS = "projection_positions"
SQL_TYPES = {str: "TEXT", int: "INTEGER"}  # as sqlite-utils declares them


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error), for work that reads and then writes.

    The write lock is taken up front, waiting for other processes as long as the connection's busy timeout. A
    deferred transaction (or a lone statement) that read first cannot wait: once another process has committed
    since its read, SQLite fails it at once with "database is locked" (SQLITE_BUSY_SNAPSHOT). That is what two
    processes creating the schema of one new database together (`licensing project` and `licensing wait`) ran into.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class ProjectionStore:
    def __init__(self, conn: sqlite3.Connection, models: tuple[ReadModel, ...] = READ_MODELS) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.models = models
        self._by_type: dict[str, list[ReadModel]] = {}
        for model in models:
            for event_type in model.handles:
                self._by_type.setdefault(event_type, []).append(model)
        # output types some model keys by the output event's id: only these need it worked out
        self._keyed_by_decision = frozenset(kind for model in models if model.by_decision for kind in model.handles)
        self._pending: dict[str, dict[tuple[Any, ...], Row | None]] = {
            table: {} for model in models for table in model.tables
        }
        self._positions: dict[tuple[str, str], int] = {}  # (model, stream) -> last position applied
        self._applied: dict[str, int] = {}  # stream -> last position staged (every model is there or past it)
        self._stored_top: dict[str, int] = {}  # stream -> the highest model position found in the database
        self._columns: dict[str, list[str]] = {}
        self._immutable = frozenset(table for model in models for table in model.immutable)
        self._without_rowid = frozenset(table for model in models for table in model.without_rowid)
        with write_transaction(conn):
            self.ensure_schema()

    def ensure_schema(self) -> None:
        """Tables, index and views of the read models, and the positions stored; in the caller's transaction."""
        for model in self.models:
            for table, (columns, pk) in model.tables.items():
                if table in model.without_rowid:
                    self._create_without_rowid(table, columns, pk)
                else:
                    self.db[table].create(columns, pk=pk, if_not_exists=True)  # type: ignore[union-attr]
                self._columns[table] = list(columns)
        self.db[POSITIONS].create(  # type: ignore[union-attr]
            {"model": str, "stream": str, "position": int}, pk=("model", "stream"), if_not_exists=True
        )
        self._move_error_details()
        # Dashboards look up entries in trouble; a partial index leaves the many Active rows out of it.
        for older in ("idx_license_assignments_tenant_state", "license_assignments_group_errors"):
            self.conn.execute(f"DROP INDEX IF EXISTS {older}")
        self.conn.execute(
            "CREATE INDEX IF NOT EXISTS license_assignments_not_active "
            "ON license_assignment_rows (tenant, state) WHERE state != 'Active'"
        )
        for model in self.models:
            for view, select in model.views.items():
                wanted = f"CREATE VIEW {view} AS {select}"
                found = self.conn.execute("SELECT type, sql FROM sqlite_master WHERE name = ?", (view,)).fetchone()
                if found == ("view", wanted):
                    continue
                if found is not None:  # a table or view of an older layout: its rows are in the view's sources
                    self.conn.execute(f"DROP {found[0].upper()} {view}")
                self.conn.execute(wanted)
        for model in self.models:
            for stream, position in self.conn.execute(
                f"SELECT stream, position FROM {POSITIONS} WHERE model = ?", (model.name,)
            ):
                self._positions[(model.name, stream)] = position
                self._stored_top[stream] = max(position, self._stored_top.get(stream, -1))

    def _create_without_rowid(self, table: str, columns: dict[str, type], pk: tuple[str, ...]) -> None:
        """The table as its primary key's B-tree alone; one of an older layout (a rowid table) gets its rows moved."""
        conn = self.conn
        found = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        if found is not None and "WITHOUT ROWID" in found[0].upper():
            return
        if found is not None:  # views over it are dropped first (created again below) so that renaming leaves them be
            for model in self.models:
                for view in model.views:
                    if conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (view,)).fetchone() == ("view",):
                        conn.execute(f"DROP VIEW {view}")
            conn.execute(f"ALTER TABLE {table} RENAME TO {table}_rowid")
        declared = ", ".join(f"{column} {SQL_TYPES[kind]}" for column, kind in columns.items())
        conn.execute(f"CREATE TABLE {table} ({declared}, PRIMARY KEY ({', '.join(pk)})) WITHOUT ROWID")
        if found is not None:
            names = ", ".join(columns)
            conn.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {table}_rowid")
            conn.execute(f"DROP TABLE {table}_rowid")

    def _move_error_details(self) -> None:
        """A database of the layout before `error_details`, where `license_assignments` was a table with every
        detail's JSON on its rows: move its rows to `license_assignment_rows`, their details to `error_details`."""
        conn = self.conn
        if conn.execute("SELECT type FROM sqlite_master WHERE name = 'license_assignments'").fetchone() != ("table",):
            return
        texts = "SELECT DISTINCT error_detail FROM license_assignments WHERE error_detail IS NOT NULL"
        ids = [(detail_key(text), text) for (text,) in conn.execute(texts)]
        conn.executemany("INSERT OR IGNORE INTO error_details (detail_id, detail) VALUES (?, ?)", ids)
        conn.execute("CREATE TEMP TABLE detail_ids (detail TEXT PRIMARY KEY, detail_id INTEGER)")
        conn.executemany("INSERT INTO temp.detail_ids (detail_id, detail) VALUES (?, ?)", ids)
        columns = self._columns["license_assignment_rows"]
        kept = ", ".join(f"a.{c}" for c in columns[:-2])  # all but error_detail_id, last_updated
        conn.execute(
            f"INSERT INTO license_assignment_rows ({', '.join(columns)}) "
            f"SELECT {kept}, m.detail_id, a.last_updated "
            "FROM license_assignments a LEFT JOIN temp.detail_ids m ON m.detail = a.error_detail"
        )
        conn.execute("DROP TABLE license_assignments")
        conn.execute("DROP TABLE temp.detail_ids")

    def position(self, model: str, stream: str) -> int:
        return max(self._positions.get((model, stream), -1), self._applied.get(stream, -1))

    def apply(self, events: Iterable[dict[str, Any]], stream: str, position: int) -> None:
        """Stage the output events (in their envelopes) found at `position` of `stream`; written by flush()."""
        if position <= self._applied.get(stream, -1):
            return  # every model holds it already (a redelivery)
        check = position <= self._stored_top.get(stream, -1)  # some model was stored past here before
        for event in events:
            self._stage(
                event["type"], event["data"], event["tenant"], event["time"], event["id"], stream, position, check
            )
        self._applied[stream] = position  # every model is at `position` or past it now

    def apply_outputs(
        self, outputs: Iterable[Output], stream: str, position: int, cause: str, time: str, tenant: str
    ) -> None:
        """`apply` for the outputs of input event `cause` as (type, data) pairs: their envelopes are not built."""
        if position <= self._applied.get(stream, -1):
            return
        check = position <= self._stored_top.get(stream, -1)
        keyed_by_decision = self._keyed_by_decision
        for n, (kind, data) in enumerate(outputs):
            # the output's id (output_event's), worked out only for the models keyed by it; the others ignore it
            decision_id = f"{cause}#{n}" if kind in keyed_by_decision else cause
            self._stage(kind, data, tenant, time, decision_id, stream, position, check)
        self._applied[stream] = position

    def _stage(
        self,
        kind: str,
        data: dict[str, Any],
        tenant: str,
        time: str,
        decision_id: str,
        stream: str,
        position: int,
        check: bool,
    ) -> None:
        pending = self._pending
        for model in self._by_type.get(kind, ()):
            if check and position <= self._positions.get((model.name, stream), -1):
                continue
            for table, key, row in model.rows(kind, data, tenant, time, decision_id, position):
                pending[table][key] = row

    def flush(self) -> None:
        """Write staged rows and positions; the caller commits (same transaction as its own log writes)."""
        for table, rows in self._pending.items():
            if not rows:
                continue
            pk = self._primary_key(table)
            columns = self._columns[table]
            deletes = [key for key, row in rows.items() if row is None]
            in_key_order = table in self._without_rowid
            second = 1 if len(pk) > 1 else 0
            if deletes:
                where = " AND ".join(f"{c} = ?" for c in pk)
                if in_key_order:
                    deletes.sort(key=itemgetter(second))
                self.conn.executemany(f"DELETE FROM {table} WHERE {where}", deletes)
            if len(deletes) < len(rows):
                marks = ", ".join("?" for _ in columns)
                upserts: Iterable[Row | None] = (
                    [row for row in rows.values() if row is not None] if deletes else rows.values()
                )
                if in_key_order:
                    # Rows of a table stored in its key's B-tree, in the order of the key's second column (the first
                    # is the tenant): each tenant's rows come in key order, so consecutive upserts land on the same
                    # or the next page, not all over the table (30,000 license_assignment_rows upserts measured alone:
                    # 4.9 us a row instead of 7.1, sorting included).
                    upserts = sorted(upserts, key=itemgetter(columns.index(pk[second])))  # type: ignore[arg-type]
                verb = "INSERT OR IGNORE" if table in self._immutable else "INSERT OR REPLACE"
                self.conn.executemany(
                    f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    cast(Iterable[Row], upserts),  # without deletes, no value is None
                )
            rows.clear()
        for stream, position in self._applied.items():
            for model in self.models:
                if position > self._positions.get((model.name, stream), -1):
                    self._positions[(model.name, stream)] = position
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {POSITIONS} (model, stream, position) VALUES (?, ?, ?)",
            [(model, stream, pos) for (model, stream), pos in self._positions.items()],
        )

    def reset(self) -> None:
        """Empty every read model (for a rebuild from the log)."""
        for model in self.models:
            for table in model.tables:
                self.conn.execute(f"DELETE FROM {table}")
        self.conn.execute(f"DELETE FROM {POSITIONS}")
        self._positions.clear()
        self._applied.clear()
        self._stored_top.clear()
        for rows in self._pending.values():
            rows.clear()

    def _primary_key(self, table: str) -> tuple[str, ...]:
        for model in self.models:
            if table in model.tables:
                return model.tables[table][1]
        raise KeyError(table)
