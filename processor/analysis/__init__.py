"""Analyst tools over the embedded log: explain, timeline, what-if, fix plan, reports and alerts.

Every tool reads the log and the read models and decides with the core on a copy of a tenant's state; none writes to
the store, except `reprocess` (which appends commands to the log like `ingest`). One module per tool; `lookup` and
`history` are what they share.
"""
