"""Proxy-address uniqueness (SPEC §2.10): mailbox plans need addresses no other object uses."""

from __future__ import annotations

from processor.state import TenantState, User


def address_key(address: str) -> str:
    """Addresses compare case-insensitively on the part after the `smtp:`-style prefix."""
    _, sep, rest = address.partition(":")
    return (rest if sep else address).lower()


def shared_addresses(tenant: TenantState, user: User) -> list[tuple[str, list[str]]]:
    """The user's addresses that other users also hold, with those users (sorted)."""
    shared = []
    for address in user.proxy_addresses:
        key = address_key(address)
        holders = tenant.proxy_holders.get(key)
        if holders and len(holders) > 1:
            shared.append((key, sorted(h for h in holders if h != user.user_id)))
    return shared


def index_addresses(tenant: TenantState, user: User, addresses: tuple[str, ...]) -> set[str]:
    """Replace the user's addresses in the tenant index; returns every user sharing an old or new address."""
    affected: set[str] = set()
    for address in user.proxy_addresses:
        key = address_key(address)
        holders = tenant.proxy_holders.get(key)
        if holders is not None:
            holders.discard(user.user_id)
            affected |= holders
            if not holders:
                del tenant.proxy_holders[key]
    user.proxy_addresses = addresses
    proxy_holders = tenant.proxy_holders
    for address in addresses:
        key = address_key(address)
        holders = proxy_holders.get(key)
        if holders is None:
            proxy_holders[key] = {user.user_id}
        else:
            affected |= holders
            holders.add(user.user_id)
    affected.discard(user.user_id)
    return affected
