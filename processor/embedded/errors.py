"""What can go wrong with an embedded store, as exceptions whose `str()` is the one line a user reads.

The command line prints `licensing: <message>` and exits 1 for any StoreError; nothing here carries a traceback
to the user.
"""

from __future__ import annotations


class StoreError(Exception):
    """The store could not do what was asked; `str()` says why in one line."""


class NoDatabase(StoreError, FileNotFoundError):
    """No database at the path (and none was to be created)."""


class NotALicensingDatabase(StoreError):
    """The file is not SQLite, or is a SQLite database of something else: it is left untouched."""


class NewerDatabase(StoreError):
    """The database was written by a newer version of this program, whose layout this one cannot read."""


class OlderDatabase(StoreError):
    """A database of a layout that only a writing command can bring up to date (and it was opened read-only)."""


class DatabaseLocked(StoreError):
    """Another process kept the database locked for longer than a command waits."""


class LogCorrupted(StoreError):
    """A stored block does not match its checksum: it is never decoded into events."""

    def __init__(self, table: str, first_seq: int, events: int, why: str) -> None:
        self.table, self.first_seq, self.events, self.why = table, first_seq, events, why
        super().__init__(
            f"the {self.block} is damaged ({why}); `licensing verify` lists every damaged block"
            + ("" if table == "log_blocks" else ", `licensing replay` rebuilds the decisions from the event log")
        )

    @property
    def block(self) -> str:
        """Which block, in a user's words: "event log block of events 1001-2000"."""
        kind = {"log_blocks": "event log block", "decision_blocks": "decisions log block"}.get(
            self.table, "tenant index of the block"
        )
        return f"{kind} of events {self.first_seq}-{self.first_seq + self.events - 1}"

    def __reduce__(self) -> tuple[type[LogCorrupted], tuple[str, int, int, str]]:
        return LogCorrupted, (self.table, self.first_seq, self.events, self.why)  # (the writer process sends it)


class NoEventLog(StoreError):
    """The database holds read models but no event log (a Kafka projector's): nothing to replay or travel in."""


class InvalidTime(StoreError, ValueError):
    """A time that is not RFC 3339 with an offset (as-of)."""


class BeforeFirstEvent(StoreError):
    """As-of a time before the tenant's first event: the tenant did not exist yet."""


class IngestRunning(StoreError):
    """Another ingest (or replay) appends to the log and did not finish within the wait."""


class LogAppendedElsewhere(StoreError):
    """Another process appended to the log during this ingest: this batch's sequence numbers are taken."""


class WriterFailed(StoreError):
    """The writer process failed or died; nothing after its last committed batch was written.

    `str()` is the writer's last line (its error); `args[1]`, if any, the writer's whole traceback."""

    def __str__(self) -> str:
        return str(self.args[0])
