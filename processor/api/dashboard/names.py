"""Names instead of GUIDs: products, service plans, groups and users as an admin knows them.

Error messages keep Graph's wording, which names plans and users by GUID; the dashboard shows them with the GUIDs
replaced by names. `Names` looks up, in one query per kind, only the ids a page shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from processor.api.dashboard.queries import DashboardQueries
from processor.catalog_file import shipped_catalog
from processor.core.catalog import Catalog

GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


class Names:
    """The names of one page's ids: the catalogue's at once, a tenant's groups and users as `learn` finds them."""

    def __init__(self, queries: DashboardQueries, tenant: str, catalog: Catalog | None = None) -> None:
        self._queries = queries
        self._tenant = tenant
        self.catalog = catalog or shipped_catalog()
        self._plans = {plan_id: name for plan_id, name in zip(self.catalog.plan_ids, self.catalog.plan_names)}
        self._known: dict[str, str] = {}

    def product(self, sku_id: str, part_number: str | None = None) -> str:
        """The product's portal name (e.g. "Office 365 E3"), else its part number."""
        sku = self.catalog.skus.get(sku_id)
        return sku.display_name if sku else (part_number or sku_id)

    def plan(self, plan_id: str) -> str:
        return self._plans.get(plan_id.lower(), plan_id)

    def plans(self, plan_ids: Iterable[str]) -> list[str]:
        return sorted(self.plan(plan_id) for plan_id in plan_ids)

    def learn(self, user_ids: Iterable[str] = (), group_ids: Iterable[str] = ()) -> None:
        """Look up the display names of these users and groups (those not known yet)."""
        wanted = sorted({i for ids in (user_ids, group_ids) for i in ids if i and i not in self._known})
        if wanted:
            self._known.update(self._queries.display_names(self._tenant, wanted))

    def learn_from(self, texts: Iterable[str | None]) -> None:
        """Look up every GUID these texts hold that is not a product or a plan (users, groups)."""
        found = {guid.lower() for text in texts if text for guid in GUID.findall(text) if not self._in_catalog(guid)}
        self.learn(found, found)

    def _in_catalog(self, guid: str) -> bool:
        return guid.lower() in self._plans or guid.lower() in self.catalog.skus

    def of(self, object_id: str | None) -> str:
        """The name of a user, group, product or plan id (learnt or in the catalogue), else the id."""
        if not object_id:
            return ""
        if object_id in self._known:
            return self._known[object_id]
        sku = self.catalog.skus.get(object_id.lower())
        if sku is not None:
            return sku.part_number
        return self._plans.get(object_id.lower(), object_id)

    def text(self, text: str | None) -> str:
        """The text with every GUID it names replaced by the name (learn_from it first)."""
        if not text:
            return ""
        return GUID.sub(lambda found: self.of(found.group(0).lower()), text)
