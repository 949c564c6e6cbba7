"""Errors of the embedded store."""

from __future__ import annotations


class StoreError(Exception):
    """An error of the store whose message is one line for the user."""
