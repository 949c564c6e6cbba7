"""Seeded benchmark workloads: one tenant, a realistic mix, written as JSON Lines.

Mix (per 1,000 events, roughly): ~100 user creations, ~800 membership changes (most of the volume; 10 % removals),
~40 profile changes (locations, duplicate proxy addresses), ~20 direct assignments (add-ons that later block
removals, E1 that clashes with E3 groups), ~10 reprocess requests, and ~10 per million licence changes on large
groups (each one a full group pass);
seat capacities below demand so CountViolation and Other occur, a calling-plan group with users located where it
is not offered, and E1/E3 groups that clash.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)
COUNTRIES = ["US"] * 12 + ["GB", "DE", "FR", "IN", "BR", "JP"] + [None]  # type: ignore[list-item]
GROUP_LICENCES: list[list[dict[str, object]]] = [
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": ["SWAY", "YAMMER_ENTERPRISE"]}],
    [{"skuId": "STANDARDPACK", "disabledPlans": []}],
    [{"skuId": "EMS", "disabledPlans": []}],
    [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}, {"skuId": "EMSPREMIUM", "disabledPlans": []}],
    [{"skuId": "MCOPSTN1", "disabledPlans": []}],
    [{"skuId": "POWER_BI_PRO", "disabledPlans": []}],
]


class Workload:
    def __init__(self, users: int, groups: int, events: int, seed: int = 1, tenant: str = "bench") -> None:
        self.users, self.groups, self.total, self.tenant = users, groups, events, tenant
        self.rng = random.Random(seed)
        self.n = 0

    def _event(self, event_type: str, data: dict[str, object]) -> str:
        self.n += 1
        time = (START + timedelta(milliseconds=self.n * 50)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return json.dumps(
            {
                "specversion": "1.0",
                "id": f"{self.tenant}-{self.n}",
                "source": "/bench",
                "type": event_type,
                "time": time,
                "tenant": self.tenant,
                "data": data,
            },
            separators=(",", ":"),
        )

    def lines(self) -> Iterator[str]:
        rng, users, groups = self.rng, self.users, self.groups
        yield self._event("TenantConfigured", {"countryLetterCode": "US"})
        seats = {
            "ENTERPRISEPACK": users * 7 // 10,
            "STANDARDPACK": users // 5,
            "EMS": users // 2,
            "EMSPREMIUM": users // 20,
            "MCOPSTN1": users // 10,
            "POWER_BI_PRO": users // 4,
            "MCOMEETADV": users // 20,
        }
        for sku, enabled in seats.items():
            yield self._event("SubscriptionChanged", {"skuId": sku, "prepaidUnits": {"enabled": enabled}})
        for g in range(groups):
            yield self._event("GroupCreated", {"groupId": f"g{g}", "displayName": f"Group {g}"})
        # One group in five carries licences; the first few are the big all-staff style groups.
        licensed = [g for g in range(groups) if g % 5 == 0]
        for g in licensed:
            yield self._event("GroupLicensesChanged", {"groupId": f"g{g}", "addLicenses": GROUP_LICENCES[g % 7]})
        created = 0
        members: list[tuple[int, int]] = []
        while self.n < self.total:
            roll = rng.random()
            if created < users and (roll < 0.1 or created < min(users, 1000)):
                location = rng.choice(COUNTRIES)
                data: dict[str, object] = {"userId": f"u{created}", "proxyAddresses": [f"SMTP:u{created}@bench.com"]}
                if location:
                    data["usageLocation"] = location
                created += 1
                yield self._event("UserCreated", data)
            elif roll < 0.82 or not members:
                # Skewed group sizes: low group numbers (incl. the big licensed ones) get most members.
                group = min(int(rng.paretovariate(0.6)) - 1, groups - 1)
                user = rng.randrange(max(created, 1))
                members.append((group, user))
                yield self._event("GroupMemberAdded", {"groupId": f"g{group}", "memberId": f"u{user}"})
            elif roll < 0.90:
                group, user = members[rng.randrange(len(members))]
                yield self._event("GroupMemberRemoved", {"groupId": f"g{group}", "memberId": f"u{user}"})
            elif roll < 0.94:
                user = rng.randrange(max(created, 1))
                if rng.random() < 0.5:
                    yield self._event("UserUpdated", {"userId": f"u{user}", "usageLocation": rng.choice(COUNTRIES)})
                else:
                    other = rng.randrange(max(created, 1))
                    addresses = [f"SMTP:u{user}@bench.com", f"smtp:u{other}@bench.com"]
                    yield self._event("UserUpdated", {"userId": f"u{user}", "proxyAddresses": addresses})
            elif roll < 0.96:
                user = rng.randrange(max(created, 1))
                sku = rng.choice(["MCOMEETADV", "STANDARDPACK", "POWER_BI_PRO"])
                yield self._event("UserLicensesChanged", {"userId": f"u{user}", "addLicenses": [{"skuId": sku}]})
            elif roll < 0.97:
                yield self._event("LicenseReprocessRequested", {"userId": f"u{rng.randrange(max(created, 1))}"})
            elif roll < 0.97001:  # ~10 per million: each is a full pass over a large group
                group = rng.choice(licensed[:20])
                yield self._event(
                    "GroupLicensesChanged",
                    {"groupId": f"g{group}", "addLicenses": GROUP_LICENCES[rng.randrange(len(GROUP_LICENCES))]},
                )
            else:
                group, user = rng.randrange(groups), rng.randrange(max(created, 1))
                yield self._event("GroupMemberAdded", {"groupId": f"g{group}", "memberId": f"u{user}"})

    def write(self, path: Path) -> int:
        with open(path, "w") as out:
            for line in self.lines():
                out.write(line)
                out.write("\n")
        return self.n
