"""`memory`: peak RSS of the embedded runner's state for a 1,000,000-user tenant (3 groups, 2 SKUs each).

The tenant is built through the decision core exactly as the runner holds it (events parsed and decided, outputs
dropped); `bytes_per_user` = (peak RSS after - RSS before) / users.
"""

from __future__ import annotations

import argparse
import gc
import json

from bench.common import peak_rss_bytes, report
from events import parse_event
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide, new_tenant


def _event(n: int, event_type: str, data: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": f"m{n}",
            "source": "/bench",
            "type": event_type,
            "time": "2026-01-01T00:00:00Z",
            "tenant": "bench",
            "data": data,
        }
    ).encode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=1_000_000)
    args = parser.parse_args()
    users = args.users
    gc.collect()
    before = peak_rss_bytes()
    tenant = new_tenant("bench", shipped_catalog())
    n = 0

    def apply(event_type: str, data: dict[str, object]) -> None:
        nonlocal n
        n += 1
        decide(tenant, parse_event(_event(n, event_type, data)))

    apply("TenantConfigured", {"countryLetterCode": "US"})
    for sku in ("ENTERPRISEPACK", "EMS"):
        apply("SubscriptionChanged", {"skuId": sku, "prepaidUnits": {"enabled": users}})
    # Six groups: two licensed (E3, EMS), four department groups; every user is in three of them.
    for g, sku in enumerate(["ENTERPRISEPACK", "EMS", None, None, None, None]):
        apply("GroupCreated", {"groupId": f"g{g}"})
        if sku:
            apply("GroupLicensesChanged", {"groupId": f"g{g}", "addLicenses": [{"skuId": sku}]})
    for u in range(users):
        apply("UserCreated", {"userId": f"u{u}", "usageLocation": "US", "proxyAddresses": [f"SMTP:u{u}@bench.com"]})
        for g in (0, 1, 2 + u % 4):
            apply("GroupMemberAdded", {"groupId": f"g{g}", "memberId": f"u{u}"})
    gc.collect()
    peak = peak_rss_bytes()
    held = sum(1 for user in tenant.users.values() if len(user.entries) == 2)
    assert held == users, held
    report("memory", {"users": users, "peak_rss_bytes": peak, "bytes_per_user": round((peak - before) / users)})


if __name__ == "__main__":
    main()
