"""The pure decision core: decide(tenant state, input event) -> output events.

No runtime, SQLite, Kafka, clock, randomness or file I/O is imported here (an import-linter contract in `make test`
keeps it so); the catalogue is passed in by the runtime.
"""
