"""The labels an administrator knows the licence errors by: the Microsoft 365 admin center's "Actions needed" list."""

from __future__ import annotations

from processor.core.state import COUNT, DEPENDENCY, EXCLUSIVE, LOCATION, OTHER, UNIQUENESS

ISSUE_LABELS = {  # Microsoft 365 admin center "Actions needed" issue column (SPEC §5.2)
    COUNT: "Not enough licenses",
    EXCLUSIVE: "Conflicting service plans",
    DEPENDENCY: "Missing dependent service plans",
    LOCATION: "Usage location not allowed",
    UNIQUENESS: "Proxy address violation",
    OTHER: "Other",
}
