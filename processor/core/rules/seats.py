"""Seats (SPEC §2.6): one per user and SKU however many sources grant it; a need without a free seat is
`CountViolation`."""

from __future__ import annotations

from processor.core.holdings import holds_sku
from processor.core.messages import count_detail
from processor.core.rules.grant import Failure, Grant
from processor.core.state import COUNT, TenantState, User


def holds_seat(tenant: TenantState, user: User, sku_id: str) -> bool:
    """Whether the user consumes a seat of the SKU: it has an applied entry of it, and is not soft-deleted with
    `releaseSeatOnSoftDelete` on."""
    if user.soft_deleted and tenant.settings.release_seat_on_soft_delete:
        return False
    return holds_sku(user, sku_id)


def seat_failure(tenant: TenantState, grant: Grant) -> Failure | None:
    """A grant needs a free seat unless the user already holds the SKU from another source."""
    if tenant.available(grant.sku_id) < 1 and not holds_seat(tenant, grant.user, grant.sku_id):
        return COUNT, count_detail(tenant.catalog, grant.sku_id, grant.adding)
    return None
