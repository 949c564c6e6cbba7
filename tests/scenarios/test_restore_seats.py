"""A restore re-evaluates the user (SPEC §2.4, §2.16): with `releaseSeatOnSoftDelete`, the seats a soft-deleted user
gave up are needed again, and a need without a free seat is `CountViolation` (§2.6) — never a seat beyond capacity,
and nobody else's seat taken (P3)."""

from __future__ import annotations

from tests.dsl import Scenario

RELEASE = {"releaseSeatOnSoftDelete": True}


def test_restored_user_whose_seat_was_taken_waits_in_count_violation() -> None:
    # given: a holds the only E3 seat from G; a is soft-deleted (seat released) and b takes it
    s = Scenario(settings=RELEASE)
    s.capacity("E3", 1)
    s.group("G", "E3")
    s.add("G", "u1")
    s.send("UserDeleted", userId="u1")
    assert s.usage("E3") == (0, 1)
    s.add("G", "u2")
    assert s.status("u2", "E3", "G") == ("Active", "None")
    # when
    s.send("UserRestored", userId="u1")
    # then
    assert s.status("u1", "E3", "G") == ("Error", "CountViolation")
    assert s.status("u2", "E3", "G") == ("Active", "None")
    assert s.usage("E3") == (1, 0)
    assert s.members_in_error("G") == {"u1"}
    assert s.enabled("u1") == set()
    changes = s.of_type("LicenseAssignmentStateChanged")
    assert [(c["userId"], c["previousState"], c["state"], c["error"]) for c in changes] == [
        ("u1", "Active", "Error", "CountViolation")
    ]
    # when: a seat is bought and a reprocessed
    s.capacity("E3", 2)
    s.reprocess_user("u1")
    # then
    assert s.status("u1", "E3", "G") == ("Active", "None")
    assert s.usage("E3") == (2, 0)


def test_restored_user_takes_its_seat_back_when_one_is_free() -> None:
    # given
    s = Scenario(settings=RELEASE)
    s.capacity("E3", 2)
    s.group("G", "E3")
    s.add("G", "u1")
    s.send("UserDeleted", userId="u1")
    s.add("G", "u2")
    # when
    s.send("UserRestored", userId="u1")
    # then
    assert s.status("u1", "E3", "G") == ("Active", "None")
    assert s.usage("E3") == (2, 0)


def test_restore_keeps_a_group_sibling_whose_seat_is_still_free() -> None:
    """Already-applied products are never withdrawn because a sibling failed (P7): only the seatless one waits."""
    # given: G gives E3 and EMS; while u1 is deleted, u2 takes the only EMS seat
    s = Scenario(settings=RELEASE)
    s.capacity("EMS", 1)
    s.group("G", "E3", "EMS")
    s.group("G_EMS", "EMS")
    s.add("G", "u1")
    s.send("UserDeleted", userId="u1")
    s.add("G_EMS", "u2")
    # when
    s.send("UserRestored", userId="u1")
    # then
    assert s.status("u1", "E3", "G") == ("Active", "None")
    assert s.status("u1", "EMS", "G") == ("Error", "CountViolation")
    assert s.usage("E3") == (1, 2)
    assert s.usage("EMS") == (1, 0)


def test_restored_direct_licence_without_a_seat_waits_and_is_healed() -> None:
    # given: u1 holds the only E3 seat directly; deleted, its seat goes to u2 directly
    s = Scenario(mode="improved", settings=RELEASE)
    s.capacity("E3", 1)
    s.direct("u1", add=["E3"])
    s.send("UserDeleted", userId="u1")
    s.direct("u2", add=["E3"])
    assert s.rejections() == []
    # when
    s.send("UserRestored", userId="u1")
    # then: the direct intent is kept, waiting for a seat
    assert s.status("u1", "E3") == ("Error", "CountViolation")
    assert s.usage("E3") == (1, 0)
    # when: a seat is bought (improved mode heals the waiting user)
    s.capacity("E3", 2)
    # then
    assert s.status("u1", "E3") == ("Active", "None")
    assert s.usage("E3") == (2, 0)
