"""Structured logs of the worker and the projector: one JSON object per line, never a terminal escape code.

Every record carries `time` (UTC, RFC 3339), `level`, `logger` and `message`; what the runtime itself reports adds
its figures as fields (`log(logger, "partition recovered", partition=2, tail=1200)`). Messages of the libraries
underneath (Faust, aiokafka) come through the same formatter, with any colour codes taken out.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")  # CSI sequences and two-byte escapes
_FIELDS = "licensing_fields"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": _ESCAPES.sub("", record.getMessage()),
        }
        entry.update(getattr(record, _FIELDS, {}))
        if record.exc_info:
            entry["error"] = _ESCAPES.sub("", self.formatException(record.exc_info))
        return orjson.dumps(entry, default=str).decode()


def handler(stream: Any = None) -> logging.Handler:
    out = logging.StreamHandler(stream or sys.stderr)
    out.setFormatter(JsonFormatter())
    return out


def logging_config(level: str) -> dict[str, Any]:
    """A dictConfig for the root logger: JSON lines on standard error (Faust's worker applies it)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["json"]},
    }


def configure(level: str) -> None:
    """For processes Faust does not set up (the projector)."""
    root = logging.getLogger()
    root.handlers[:] = [handler()]
    root.setLevel(level)


def log(logger: logging.Logger, message: str, level: int = logging.INFO, **fields: Any) -> None:
    """A log line with fields of its own (`partition`, `seconds`, …) besides the message."""
    logger.log(level, message, extra={_FIELDS: fields})
