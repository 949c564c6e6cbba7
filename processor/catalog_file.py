"""The catalogue shipped in the package (`processor/catalog.json`), read once per process.

The core never reads it: runtimes pass the built catalogue to `new_tenant`, so the core does no file I/O and a test
or an analyst can decide with another catalogue.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from processor.core.catalog import Catalog, build_catalog


def load_catalog_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("processor").joinpath("catalog.json").read_text("utf-8"))
    return data


@cache
def shipped_catalog() -> Catalog:
    return build_catalog(load_catalog_data())
