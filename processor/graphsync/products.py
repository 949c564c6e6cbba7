"""Which SKUs and service plans of a snapshot the catalogue knows: an unknown GUID is reported, never guessed.

A plan that subscribedSkus lists in a known SKU but the catalogue's SKU lacks is the vendor's later addition
(Microsoft adds plans to products over time): the import adds it with `ServicePlanAdded`, with no plan rules known
for it. A SKU the catalogue does not know, or a disabled plan that is in neither the catalogue's SKU nor the
snapshot's, cannot be decided and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from processor.core.catalog import Catalog
from processor.graphsync.snapshot import Snapshot


@dataclass(slots=True)
class ProductCheck:
    unknown_skus: dict[str, str] = field(default_factory=dict)  # assigned skuId -> skuPartNumber (or "")
    unassigned_unknown: dict[str, str] = field(default_factory=dict)  # only subscribed (no one holds them): skipped
    new_plans: list[tuple[str, str, str]] = field(default_factory=list)  # (skuId, servicePlanId, servicePlanName)
    unknown_plans: dict[str, set[str]] = field(default_factory=dict)  # skuId -> disabled plan GUIDs nowhere known
    _plans: dict[str, set[str]] = field(default_factory=dict)  # skuId -> every plan GUID it contains here

    def known_sku(self, sku_id: str) -> bool:
        return sku_id in self._plans

    def known_plan(self, sku_id: str, plan_id: str) -> bool:
        return plan_id in self._plans.get(sku_id, ())

    def problems(self) -> list[str]:
        """One line per kind of unknown identifier, naming them (empty: everything is known)."""
        lines = []
        if self.unknown_skus:
            names = ", ".join(f"{sku} ({part})" if part else sku for sku, part in sorted(self.unknown_skus.items()))
            lines.append(f"SKUs unknown to the catalogue: {names}")
        if self.unknown_plans:
            names = ", ".join(
                f"{plan} in {sku}" for sku, plans in sorted(self.unknown_plans.items()) for plan in sorted(plans)
            )
            lines.append(f"disabled plans in no known SKU: {names}")
        return lines


def check_products(snapshot: Snapshot, catalog: Catalog) -> ProductCheck:
    check = ProductCheck()
    parts = {sku.sku_id: sku.part_number for sku in snapshot.skus}
    listed = {sku.sku_id: sku for sku in snapshot.skus}
    assigned = _assigned_skus(snapshot)
    for sku_id in dict.fromkeys([*listed, *assigned]):
        known = catalog.resolve_sku(sku_id)
        if known is None or known.sku_id != sku_id:  # a GUID, never a part number, names a SKU in Graph
            unknown = check.unknown_skus if sku_id in assigned else check.unassigned_unknown
            unknown[sku_id] = parts.get(sku_id, "")
            continue
        plans = set(catalog.plan_ids_of(known.plans))
        for plan in listed[sku_id].plans if sku_id in listed else ():
            if plan.plan_id not in plans:
                check.new_plans.append((sku_id, plan.plan_id, plan.name or plan.plan_id))
                plans.add(plan.plan_id)
        check._plans[sku_id] = plans
    for sku_id, disabled in _disabled_plans(snapshot):
        if check.known_sku(sku_id):
            missing = {plan for plan in disabled if not check.known_plan(sku_id, plan)}
            if missing:
                check.unknown_plans.setdefault(sku_id, set()).update(missing)
    return check


def _assigned_skus(snapshot: Snapshot) -> dict[str, None]:
    """The SKUs some group assigns or some user holds, in the order first met."""
    seen: dict[str, None] = {}
    for group in snapshot.groups:
        for sku_id, _ in group.licenses:
            seen[sku_id] = None
    for user in snapshot.users:
        for state in user.states:
            seen[state.sku_id] = None
    return seen


def _disabled_plans(snapshot: Snapshot) -> list[tuple[str, tuple[str, ...]]]:
    found = [pair for group in snapshot.groups for pair in group.licenses]
    found += [(state.sku_id, state.disabled_plans) for user in snapshot.users for state in user.states]
    return found
