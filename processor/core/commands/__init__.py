"""Synchronous commands: direct licence changes (SPEC §2.2) and group licence configuration (§2.3)."""
