"""The embedded runtime: the SQLite event log, snapshots, deduplication, the batch writer, as-of and replay."""
