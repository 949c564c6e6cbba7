"""Proxy-address uniqueness (SPEC §2.10): mailbox plans need addresses no other object uses, else
`UniquenessViolation`."""

from __future__ import annotations

from processor.core.messages import uniqueness_detail
from processor.core.rules.grant import Failure, Grant
from processor.core.state import UNIQUENESS, TenantState, User


def address_key(address: str) -> str:
    """Addresses compare case-insensitively on the part after the `smtp:`-style prefix."""
    _, sep, rest = address.partition(":")
    return (rest if sep else address).lower()


def shared_addresses(tenant: TenantState, user: User) -> list[tuple[str, list[str]]]:
    """The user's addresses that other users also hold, with those users (sorted)."""
    if user.user_id not in tenant.address_sharers:
        return []  # most users: no address to look up
    shared = []
    for address in user.proxy_addresses:
        key = address_key(address)
        holders = tenant.proxy_holders.get(key)
        if holders and len(holders) > 1:
            shared.append((key, sorted(h for h in holders if h != user.user_id)))
    return shared


def uniqueness_failure(tenant: TenantState, grant: Grant) -> Failure | None:
    """A grant enabling a mailbox plan needs the user's proxy addresses to be its own."""
    if grant.plans & tenant.catalog.mailbox:
        shared = shared_addresses(tenant, grant.user)
        if shared:
            return UNIQUENESS, uniqueness_detail(shared)
    return None


def index_addresses(tenant: TenantState, user: User, addresses: tuple[str, ...]) -> set[str]:
    """Replace the user's addresses in the tenant index; returns every user sharing an old or new address.

    Keeps `tenant.address_sharers` (per user, how many of its addresses others hold too) exact: an address's
    holders change only here."""
    user_id = user.user_id
    proxy_holders = tenant.proxy_holders
    sharers = tenant.address_sharers
    sharers.pop(user_id, None)  # counted again below, over the new addresses
    affected: set[str] = set()
    for key in dict.fromkeys(address_key(address) for address in user.proxy_addresses):  # in order, once
        holders = proxy_holders.get(key)
        if holders is not None:
            holders.discard(user_id)
            affected |= holders
            if not holders:
                del proxy_holders[key]
            elif len(holders) == 1:  # the one left holds it alone now
                _count(sharers, next(iter(holders)), -1)
    user.proxy_addresses = addresses
    for key in dict.fromkeys(address_key(address) for address in addresses):
        holders = proxy_holders.get(key)
        if holders is None:
            proxy_holders[key] = {user_id}
            continue
        affected |= holders
        if len(holders) == 1:  # the one there shares it from now on
            _count(sharers, next(iter(holders)), 1)
        holders.add(user_id)
        _count(sharers, user_id, 1)
    affected.discard(user_id)
    return affected


def _count(sharers: dict[str, int], user_id: str, change: int) -> None:
    count = sharers.get(user_id, 0) + change
    if count:
        sharers[user_id] = count
    else:
        del sharers[user_id]
