"""Usage location (SPEC §2.9): restricted plans are only offered in some countries, else
`ProhibitedInUsageLocationViolation`."""

from __future__ import annotations

from processor.core.catalog import Catalog, bits
from processor.core.messages import location_detail
from processor.core.rules.grant import Failure, Grant
from processor.core.state import LOCATION, TenantState, User


def effective_location(tenant: TenantState, user: User) -> tuple[str | None, str]:
    """Location used for a group source: the user's own, else the tenant's country (doc); and where it came from."""
    if user.usage_location:
        return user.usage_location, "user"
    return tenant.country, "tenant"


def blocked_plans(catalog: Catalog, enabled: int, location: str | None) -> int:
    """Mask of the enabled plans that are not offered in `location` (a missing location allows no restricted plan)."""
    restricted = enabled & catalog.restricted
    if not restricted:
        return 0
    blocked = 0
    for bit in bits(restricted):
        if location is None or location.upper() not in catalog.allowed_countries[bit]:
            blocked |= 1 << bit
    return blocked


def location_failure(tenant: TenantState, grant: Grant) -> Failure | None:
    """Every plan the grant enables must be offered in the usage location it is judged in."""
    catalog = tenant.catalog
    blocked = blocked_plans(catalog, grant.plans, grant.location)
    if blocked:
        return LOCATION, location_detail(catalog, blocked, grant.location, grant.location_source)
    return None
