"""`licensing serve --bootstrap-server`: Graph reads from the database `licensing project` keeps, and commands go to
licensing.events for the workers (answered 202), which decide them as the embedded store would."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.api.conftest import TENANT, export, start_server, stop_server
from tests.api.graph_client import graph_client
from tests.kafka.conftest import Cluster, kafka  # noqa: F401  (the broker fixture)


def test_kafka_mode_reads_the_projection_and_publishes_commands(
    kafka: Cluster,  # noqa: F811
    tmp_path: Path,
    demo_events_file: Path,
) -> None:
    db = tmp_path / "kafka.db"
    kafka.start_worker()
    kafka.start_projector(db)
    kafka.publish(demo_events_file)
    kafka.wait_projected(db)
    server = start_server(db, "--bootstrap-server", kafka.bootstrap)
    try:
        document = export(db)
        groups = asyncio.run(graph_client(server.graph()).groups.get()).value  # the Cluster's helpers run loops too
        assert sorted(g.id for g in groups) == [g["id"] for g in document["groups"]]

        user = next(u for u in document["users"] if not u["deleted"] and not u["assignedLicenses"])
        sku = next(s for s in document["subscribedSkus"] if s["skuPartNumber"] == "EMSPREMIUM")
        body = {"addLicenses": [{"skuId": sku["skuId"]}], "removeLicenses": []}
        moved = {
            "specversion": "1.0",
            "id": "kafka-mode-1",
            "source": "/hr-sync",
            "type": "UserUpdated",
            "time": "2026-03-01T00:00:00Z",
            "tenant": TENANT,
            "data": {"userId": user["id"], "usageLocation": "FR"},
        }
        with server.client() as client:
            graph = f"/tenants/{TENANT}/v1.0"
            assigned = client.post(f"{graph}/users/{user['id']}/assignLicense", json=body)
            posted = client.post(
                "/events", content=json.dumps(moved), headers={"content-type": "application/cloudevents+json"}
            )
            members = client.get(f"{graph}/groups/{groups[0].id}/members")
        assert assigned.status_code == 202  # published: the workers decide it
        assert posted.status_code == 202 and posted.json() == {"published": 1}
        assert members.status_code == 501 and members.json()["error"]["code"] == "NotImplemented"

        kafka.wait_projected(db)
        after = export(db)
        (refused,) = after["rejectedCommands"][len(document["rejectedCommands"]) :]
        assert refused["type"] == "UserLicensesChanged" and refused["error"] == "CountViolation"
        (now,) = [u for u in after["users"] if u["id"] == user["id"]]
        assert now["usageLocation"] == "FR"
    finally:
        stop_server(server)
