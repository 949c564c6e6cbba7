"""Group licence configuration (SPEC §2.3): synchronous validation, then a group pass."""

from __future__ import annotations

from typing import Any

from events.inputs import GroupLicensesChangedData
from processor.core.catalog import Catalog, bits
from processor.core.commands.resolve import Rejection, resolve_change
from processor.core.messages import GROUP_PREREQ_MESSAGE, plan_ref
from processor.core.rules.dependency import unmet
from processor.core.state import DEPENDENCY, Group, Settings


def group_kind_allowed(group: Group, settings: Settings) -> bool:
    allowed = settings.allowed_group_kinds
    if group.kind == "m365":
        return "m365" in allowed or ("m365SecurityEnabled" in allowed and group.security_enabled)
    return group.kind in allowed


def new_group_licenses(
    catalog: Catalog, group: Group, settings: Settings, data: GroupLicensesChangedData
) -> tuple[dict[str, int], list[dict[str, Any]]] | Rejection:
    """The group's configuration after the command (removals, then adds replacing `disabledPlans`) and warnings."""
    if not group_kind_allowed(group, settings):
        return Rejection(
            "InvalidGroupKind",
            f"Licenses cannot be assigned to a group of kind {group.kind!r}"
            f"{' without securityEnabled' if group.kind == 'm365' else ''}; allowed: "
            f"{', '.join(settings.allowed_group_kinds)}.",
            None,
        )
    change = resolve_change(catalog, data.addLicenses, data.removeLicenses)
    if isinstance(change, Rejection):
        return change
    adds, removes = change
    licenses = dict(group.licenses)
    for sku_id in removes:
        licenses.pop(sku_id, None)
    for sku_id, disabled in adds:
        licenses[sku_id] = disabled

    group_plans = 0
    for sku_id, disabled in licenses.items():
        group_plans |= catalog.skus[sku_id].plans & ~disabled
    warnings: list[dict[str, Any]] = []
    for sku_id, disabled in list(licenses.items()):
        missing = unmet(catalog, catalog.skus[sku_id].plans & ~disabled, group_plans)
        if not missing:
            continue
        needs = "; ".join(
            f"{catalog.plan_name(p)} requires {' or '.join(catalog.plan_name(b) for b in bits(n))}" for p, n in missing
        )
        if settings.group_prereq_policy == "reject":
            detail = {
                "missing": [
                    {"plan": plan_ref(catalog, p), "requiresAnyOf": [plan_ref(catalog, b) for b in bits(n)]}
                    for p, n in missing
                ]
            }
            return Rejection(DEPENDENCY, f"{GROUP_PREREQ_MESSAGE} {needs}.", detail)
        for plan, _ in missing:  # disableDependentPlan: accept with the dependent plan switched off
            licenses[sku_id] |= 1 << plan
        warnings.append({"skuPartNumber": catalog.skus[sku_id].part_number, "disabledDependentPlans": needs})
    return licenses, warnings
