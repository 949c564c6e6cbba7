"""`many_groups`: events/s of adding one user to N licensed groups, for N = 1,000, 2,000 and 10,000.

A service account or a catch-all user can be a member of thousands of licensed groups. Each membership change
evaluates the user, and an evaluation that passes over all of the user's groups and entries made adding it to N
groups cost O(N²) in all (10,000 groups: 72 s of CPU before the holdings index). This measures the decision core
alone (no storage): a tenant with N groups each assigning E3 and one user, then the N GroupMemberAdded events,
timed. Each N runs in a process of its own, `--repeat` rounds over all sizes, the median rate per size reported;
`growth_ratio` = rate at the smallest N / rate at the largest (1.0 = a membership change costs the same however
many groups the user is in; 10 would mean it grows with them).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time

from bench.common import in_own_process, report
from events import parse_event
from events.inputs import InputEvent
from processor.catalog_file import shipped_catalog
from processor.core.decide import decide_changes, new_tenant


def _event(n: int, event_type: str, data: dict[str, object]) -> InputEvent:
    line = {
        "specversion": "1.0",
        "id": f"mg-{n}",
        "source": "/bench",
        "type": event_type,
        "time": "2026-01-05T08:00:00Z",
        "tenant": "bench",
        "data": data,
    }
    return parse_event(json.dumps(line))


def rate_at(groups: int) -> float:
    """Events/s of adding the user to `groups` licensed groups, one GroupMemberAdded each."""
    tenant = new_tenant("bench", shipped_catalog())
    setup = [
        _event(0, "TenantConfigured", {"countryLetterCode": "US"}),
        _event(1, "SubscriptionChanged", {"skuId": "ENTERPRISEPACK", "prepaidUnits": {"enabled": 10}}),
        _event(2, "UserCreated", {"userId": "u", "usageLocation": "US"}),
    ]
    for g in range(groups):
        setup.append(_event(10 + 2 * g, "GroupCreated", {"groupId": f"g{g}"}))
        licence: dict[str, object] = {
            "groupId": f"g{g}",
            "addLicenses": [{"skuId": "ENTERPRISEPACK", "disabledPlans": []}],
        }
        setup.append(_event(11 + 2 * g, "GroupLicensesChanged", licence))
    for event in setup:
        decide_changes(tenant, event)
    adds = [_event(10_000_000 + g, "GroupMemberAdded", {"groupId": f"g{g}", "memberId": "u"}) for g in range(groups)]
    gc.freeze()  # as the runtimes do: the collector stays off the decided state while deciding
    gc.disable()
    started = time.perf_counter()
    for event in adds:
        decide_changes(tenant, event)
    seconds = time.perf_counter() - started
    gc.enable()
    entries = tenant.users["u"].entries
    assert len(entries) == groups and all(e.state == "Active" for e in entries.values()), len(entries)
    return groups / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,2000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    runs: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(args.repeat):
        for size in sizes:
            runs[size].append(in_own_process(rate_at, size))
    rates = {size: statistics.median(rates) for size, rates in runs.items()}
    figures: dict[str, object] = {f"events_per_s_{size}": round(rate) for size, rate in rates.items()}
    figures["growth_ratio"] = round(rates[sizes[0]] / rates[sizes[-1]], 3)
    figures.update({f"runs_{size}": [round(rate) for rate in rates_] for size, rates_ in runs.items()})
    report("many_groups", figures)


if __name__ == "__main__":
    main()
