"""The names an administrator knows a tenant's objects by, for the ids the read models hold.

Users by display name (else user principal name), groups by display name, SKUs by part number and service plans by
name. The decision core writes ids into its reasons and fixes (the holders of a duplicated proxy address, the plans
of a conflict): `in_text` puts the names in their place.
"""

from __future__ import annotations

import re
import sqlite3

from processor.catalog_file import load_catalog_data

GUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")


class Names:
    def __init__(self, by_id: dict[str, str]) -> None:
        self._by_id = {object_id.lower(): name for object_id, name in by_id.items()}

    @classmethod
    def of_tenant(cls, conn: sqlite3.Connection, tenant: str) -> Names:
        """The names of the tenant's users and groups, and of the shipped catalogue's SKUs and plans."""
        by_id: dict[str, str] = {}
        for sku in load_catalog_data()["skus"]:
            by_id[sku["skuId"]] = sku["skuPartNumber"]
            for plan in sku["servicePlans"]:
                by_id[plan["servicePlanId"]] = plan["servicePlanName"]
        for sku_id, part in conn.execute(
            "SELECT sku_id, sku_part_number FROM product_usage WHERE tenant = ?", (tenant,)
        ):
            by_id[sku_id] = part
        for user_id, name in conn.execute(
            "SELECT user_id, coalesce(display_name, user_principal_name) FROM users WHERE tenant = ?", (tenant,)
        ):
            if name:
                by_id[user_id] = name
        for group_id, name in conn.execute("SELECT group_id, display_name FROM groups WHERE tenant = ?", (tenant,)):
            if name:
                by_id[group_id] = name
        return cls(by_id)

    def of(self, object_id: str) -> str:
        """The object's name, or its id if it has none."""
        return self._by_id.get(object_id.lower(), object_id)

    def in_text(self, text: str) -> str:
        """The text with every id (a GUID) of a named object replaced by the name."""
        return GUID.sub(lambda match: self.of(match.group()), text)
