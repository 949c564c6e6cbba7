"""OData conventions of Graph shared by every route: the tenant of the path, `@odata.context`, paging by $skiptoken."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from processor.api.graph.errors import not_found
from processor.api.reads import Tenant
from processor.api.services import Store


def known_tenant(tenant: str, store: Store) -> Tenant:
    row = store.reads.tenant(tenant)
    if row is None:
        raise not_found(tenant)
    return row


KnownTenant = Annotated[Tenant, Depends(known_tenant)]


def context_url(request: Request, tenant: str, what: str) -> str:
    """`@odata.context`: where the answer's metadata would be, and what it is (`users`, `users/$entity`, …)."""
    return f"{request.base_url}tenants/{tenant}/v1.0/$metadata#{what}"
