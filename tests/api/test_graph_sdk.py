"""The real msgraph-sdk against a running `licensing serve` on the demo tenant: what it reads equals `licensing export`
of the same database, it pages through more than 999 users, and a refused assignLicense is its ODataError."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
from msgraph.generated.groups.item.members_with_license_errors.members_with_license_errors_request_builder import (
    MembersWithLicenseErrorsRequestBuilder,
)
from msgraph.generated.models.assigned_license import AssignedLicense
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.user import User
from msgraph.generated.users.item.assign_license.assign_license_post_request_body import AssignLicensePostRequestBody
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from tests.api.conftest import DEMO_USERS, Server, export
from tests.api.graph_client import graph_client

LICENCE_PROPERTIES = ["id", "assignedLicenses", "licenseAssignmentStates"]


def sdk_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_subscribed_skus_equal_the_export(demo_server: Server) -> None:
    client = graph_client(demo_server.graph())
    skus = (await client.subscribed_skus.get()).value
    document = export(demo_server.db)
    read = sorted(
        (
            str(sku.sku_id),
            sku.sku_part_number,
            sku.capability_status,
            sku.consumed_units,
            (
                sku.prepaid_units.enabled,
                sku.prepaid_units.warning,
                sku.prepaid_units.suspended,
                sku.prepaid_units.locked_out,
            ),
        )
        for sku in skus
    )
    expected = sorted(
        (
            s["skuId"],
            s["skuPartNumber"],
            s["capabilityStatus"],
            s["consumedUnits"],
            tuple(s["prepaidUnits"][k] for k in ("enabled", "warning", "suspended", "lockedOut")),
        )
        for s in document["subscribedSkus"]
    )
    assert read == expected
    assert len(read) >= 5
    assert all(sku.service_plans for sku in skus if sku.sku_part_number == "ENTERPRISEPACK")


async def _groups_with_errors(client: Any, advanced: bool) -> tuple[list[Any], int | None]:
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters(
        filter="hasMembersWithLicenseErrors eq true",
        select=["id", "displayName", "assignedLicenses", "licenseProcessingState"],
        count=True if advanced else None,
    )
    config = RequestConfiguration(query_parameters=query)
    if advanced:
        config.headers.add("ConsistencyLevel", "eventual")
    page = await client.groups.get(request_configuration=config)
    groups, count = list(page.value), page.odata_count
    while page.odata_next_link:
        page = await client.groups.with_url(page.odata_next_link).get()
        groups += page.value
    return groups, count


async def _members_with_errors(client: Any, group_id: str) -> list[Any]:
    query = MembersWithLicenseErrorsRequestBuilder.MembersWithLicenseErrorsRequestBuilderGetQueryParameters(
        top=999, select=["id", "displayName", "licenseAssignmentStates"]
    )
    builder = client.groups.by_group_id(group_id).members_with_license_errors
    page = await builder.get(request_configuration=RequestConfiguration(query_parameters=query))
    members = list(page.value)
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        members += page.value
    return members


async def test_groups_with_errors_and_their_members_equal_the_export(demo_server: Server) -> None:
    client = graph_client(demo_server.graph())
    document = export(demo_server.db)
    expected = {g["id"]: g for g in document["groups"] if g["hasMembersWithLicenseErrors"]}
    assert len(expected) >= 3  # the demo tenant's scenarios

    plain, no_count = await _groups_with_errors(client, advanced=False)
    advanced, count = await _groups_with_errors(client, advanced=True)
    assert sorted(g.id for g in plain) == sorted(expected) == sorted(g.id for g in advanced)
    assert no_count is None and count == len(expected)
    for group in plain:
        wanted = expected[group.id]
        assert group.display_name == wanted["displayName"]
        assert group.license_processing_state.state == wanted["licenseProcessingState"]["state"]
        licences = [(str(a.sku_id), sorted(str(p) for p in a.disabled_plans)) for a in group.assigned_licenses]
        assert licences == [(a["skuId"], a["disabledPlans"]) for a in wanted["assignedLicenses"]]

        members = await _members_with_errors(client, group.id)
        assert all(isinstance(member, User) for member in members)  # "@odata.type": "#microsoft.graph.user"
        assert [m.id for m in members] == wanted["membersWithLicenseErrors"]
        for member in members:  # each has an entry from this group in error
            assert any(
                s.assigned_by_group == group.id and s.state in ("Error", "ActiveWithError")
                for s in member.license_assignment_states
            )


async def _all_users(client: Any) -> tuple[list[Any], int]:
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(top=999, select=LICENCE_PROPERTIES)
    page = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    users, pages = list(page.value), 1
    while page.odata_next_link:
        assert page.odata_next_link.startswith("http://127.0.0.1:")  # absolute, as Graph's
        page = await client.users.with_url(page.odata_next_link).get()
        users += page.value
        pages += 1
    return users, pages


async def test_users_license_states_equal_the_export_across_pages(demo_server: Server) -> None:
    client = graph_client(demo_server.graph())
    users, pages = await _all_users(client)
    document = export(demo_server.db)
    expected = {u["id"]: u for u in document["users"] if not u["deleted"]}
    assert len(expected) > 999 and pages == 2  # 1,000+ users need a second page of 999
    assert [u.id for u in users] == sorted(expected)
    in_error = 0
    for user in users:
        wanted = expected[user.id]
        licences = [(str(a.sku_id), sorted(str(p) for p in a.disabled_plans)) for a in user.assigned_licenses]
        assert licences == [(a["skuId"], a["disabledPlans"]) for a in wanted["assignedLicenses"]]
        states = [
            (
                str(s.sku_id),
                s.assigned_by_group,
                s.state,
                s.error,
                sorted(str(p) for p in s.disabled_plans),
                s.last_updated_date_time,
            )
            for s in user.license_assignment_states
        ]
        assert states == [
            (
                s["skuId"],
                s["assignedByGroup"],
                s["state"],
                s["error"],
                s["disabledPlans"],
                sdk_time(s["lastUpdatedDateTime"]),
            )
            for s in wanted["licenseAssignmentStates"]
        ]
        in_error += any(s.state != "Active" for s in user.license_assignment_states)
    assert in_error >= 10
    assert len(users) <= DEMO_USERS


async def test_a_user_reads_with_its_license_states(demo_server: Server) -> None:
    client = graph_client(demo_server.graph())
    document = export(demo_server.db)
    wanted = next(  # one SKU from two sources: the states' order (direct first, then groups by id) shows
        u
        for u in document["users"]
        if not u["deleted"]
        and len({s["skuId"] for s in u["licenseAssignmentStates"]}) < len(u["licenseAssignmentStates"])
    )
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(select=["licenseAssignmentStates"])
    builder = client.users.by_user_id(wanted["id"])
    user = await builder.get(request_configuration=RequestConfiguration(query_parameters=query))
    assert user.id == wanted["id"]
    assert [(str(s.sku_id), s.assigned_by_group, s.state) for s in user.license_assignment_states] == [
        (s["skuId"], s["assignedByGroup"], s["state"]) for s in wanted["licenseAssignmentStates"]
    ]
    details = (await builder.license_details.get()).value
    assert [d.sku_part_number for d in details] == [a["skuPartNumber"] for a in wanted["assignedLicenses"]]


def _seatless_sku_and_unlicensed_user(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    # EMSPREMIUM: the demo's "IT & Executives" group takes every seat; it has no prerequisite and no location rule.
    sku = next(s for s in document["subscribedSkus"] if s["skuPartNumber"] == "EMSPREMIUM")
    assert sku["availableUnits"] == 0
    user = next(u for u in document["users"] if not u["deleted"] and u["usageLocation"] and not u["assignedLicenses"])
    return sku, user


async def test_refused_assign_license_is_a_400_odata_error(own_server: Server) -> None:
    client = graph_client(own_server.graph())
    before = export(own_server.db)
    sku, user = _seatless_sku_and_unlicensed_user(before)
    body = AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=uuid.UUID(sku["skuId"]), disabled_plans=[])], remove_licenses=[]
    )
    with pytest.raises(ODataError) as refused:
        await client.users.by_user_id(user["id"]).assign_license.post(body)
    error = refused.value
    assert error.response_status_code == 400
    assert error.error.code == "Request_BadRequest"
    assert error.error.message == f"Subscription with SKU {sku['skuId']} does not have any available licenses."
    detail = error.error.inner_error.additional_data
    assert detail["errorCode"] == "CountViolation"
    assert "EMSPREMIUM" in detail["suggestedFix"]
    assert {k: str(v) for k, v in detail["detail"]["sku"].items()} == {  # the SDK reads GUIDs as UUIDs
        "skuId": sku["skuId"],
        "skuPartNumber": "EMSPREMIUM",
    }

    after = export(own_server.db)
    assert after["users"] == before["users"] and after["subscribedSkus"] == before["subscribedSkus"]
    (rejected,) = after["rejectedCommands"][len(before["rejectedCommands"]) :]
    assert rejected["type"] == "UserLicensesChanged" and rejected["error"] == "CountViolation"


async def test_accepted_assign_license_returns_the_user_and_changes_the_export(own_server: Server) -> None:
    client = graph_client(own_server.graph())
    before = export(own_server.db)
    sku = next(s for s in before["subscribedSkus"] if s["skuPartNumber"] == "EMS")
    assert sku["availableUnits"] > 0
    _, user = _seatless_sku_and_unlicensed_user(before)
    body = AssignLicensePostRequestBody(
        add_licenses=[AssignedLicense(sku_id=uuid.UUID(sku["skuId"]), disabled_plans=[])], remove_licenses=[]
    )
    answered = await client.users.by_user_id(user["id"]).assign_license.post(body)
    assert answered.id == user["id"]
    after = export(own_server.db)
    (now,) = [u for u in after["users"] if u["id"] == user["id"]]
    assert [(s["skuId"], s["assignedByGroup"], s["state"]) for s in now["licenseAssignmentStates"]] == [
        (sku["skuId"], None, "Active")
    ]
    (ems,) = [s for s in after["subscribedSkus"] if s["skuId"] == sku["skuId"]]
    assert ems["consumedUnits"] == sku["consumedUnits"] + 1
