"""Commands that would leave a phantom object or say a thing twice are refused as a whole (CommandRejected), and
nothing is created or changed. Objects named before their creation event are still created implicitly by ordinary
membership and licence events (CONTRACT §2)."""

from __future__ import annotations

from tests.dsl import SHORT, Scenario

E3_ID = "6fd2c87f-b296-42f0-b197-1e91e994b900"


def refused(s: Scenario) -> list[tuple[str, str]]:
    return [(r["type"], r["error"]) for r in s.rejections(s.last)]


def test_reprocessing_a_group_that_does_not_exist_is_refused_and_creates_nothing() -> None:
    # given
    s = Scenario()
    # when
    s.reprocess_group("G_NOWHERE")
    # then
    assert refused(s) == [("LicenseReprocessRequested", "UnknownGroup")]
    assert s.rejections(s.last)[0]["groupId"] == "G_NOWHERE"
    assert "G_NOWHERE" not in s.state.groups
    assert [o["type"] for o in s.last] == ["CommandRejected"]


def test_reprocessing_a_user_never_seen_still_creates_it() -> None:
    s = Scenario()
    s.reprocess_user("u9")
    assert refused(s) == []
    assert "u9" in s.state.users


def test_a_group_member_that_is_a_known_user_is_refused() -> None:
    # given: u1 is a user; G_NEW was never seen
    s = Scenario()
    # when
    s.add_group("G_NEW", "u1")
    # then
    assert refused(s) == [("GroupMemberAdded", "MemberTypeMismatch")]
    assert s.rejections(s.last)[0]["detail"] == {"memberId": "u1", "memberType": "group", "is": "user"}
    assert "u1" not in s.state.groups and "G_NEW" not in s.state.groups
    assert [o["type"] for o in s.last] == ["CommandRejected"]


def test_a_user_member_that_is_a_known_group_is_refused() -> None:
    # given
    s = Scenario()
    s.group("G_E3", "E3")
    s.group("G_TEAM")
    # when
    s.add("G_E3", "G_TEAM")
    # then
    assert refused(s) == [("GroupMemberAdded", "MemberTypeMismatch")]
    assert "G_TEAM" not in s.state.users
    assert s.state.groups["G_E3"].members == {}
    assert s.usage("E3") == (0, 3)


def test_members_named_before_they_are_created_are_still_created() -> None:
    s = Scenario()
    s.add("G_LATER", "u_later")
    s.add_group("G_LATER", "G_NESTED")
    assert refused(s) == []
    assert "u_later" in s.state.users and {"G_LATER", "G_NESTED"} <= s.state.groups.keys()
    assert "u_later" in s.state.groups["G_LATER"].members and "G_NESTED" in s.state.groups["G_LATER"].nested


def test_a_direct_request_naming_a_sku_twice_is_refused() -> None:
    # given
    s = Scenario()
    # when: E3 by part number and by GUID
    s.send("UserLicensesChanged", userId="u1", addLicenses=[{"skuId": SHORT["E3"]}, {"skuId": E3_ID}])
    # then
    assert refused(s) == [("UserLicensesChanged", "DuplicateLicense")]
    assert "ENTERPRISEPACK" in s.rejections(s.last)[0]["message"]
    assert s.entries("u1") == {}
    # when: the same SKU added and removed
    s.direct("u1", add=["E3"])
    s.direct("u1", add=["E3"], remove=["E3"])
    # then
    assert refused(s) == [("UserLicensesChanged", "DuplicateLicense")]
    assert s.rejections(s.last)[0]["message"] == (
        "License ENTERPRISEPACK is present in both the addLicenses and removeLicenses lists."
    )
    assert s.entries("u1") == {("E3", "direct"): ("Active", "None")}


def test_a_group_licence_command_naming_a_sku_twice_is_refused() -> None:
    # given
    s = Scenario()
    s.group("G_E3", "E3")
    s.add("G_E3", "u1")
    # when
    s.assign("G_E3", add=["E1", ("E1", ["SWAY"])])
    # then
    assert refused(s) == [("GroupLicensesChanged", "DuplicateLicense")]
    # when
    s.assign("G_E3", add=["EMS"], remove=["EMS"])
    # then
    assert refused(s) == [("GroupLicensesChanged", "DuplicateLicense")]
    assert list(s.state.groups["G_E3"].licenses) == [E3_ID]
    assert s.entries("u1") == {("E3", "G_E3"): ("Active", "None")}
