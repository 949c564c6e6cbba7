"""Sibling failure (SPEC P7, §2.5 phase 3): a group's new licences reach a user all together or not at all, so a
licence that passed every check fails with `Other` when another licence of the same group failed."""

from __future__ import annotations

from processor.core.catalog import Catalog
from processor.core.messages import other_detail
from processor.core.rules.grant import Failure
from processor.core.state import OTHER


def sibling_failure(catalog: Catalog, failures: dict[str, Failure]) -> Failure:
    """The failure of a licence whose bundle failed elsewhere: `failures` are its siblings', by SKU."""
    return OTHER, other_detail(catalog, {sku_id: code for sku_id, (code, _) in failures.items()})
