"""Request bodies of Graph's licence actions, as Graph defines them (both lists of `assignLicense` are required)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class AssignedLicense(Body):
    skuId: str = Field(min_length=1, description="The SKU's GUID (its skuPartNumber is accepted too).")
    disabledPlans: list[str] = Field(default_factory=list, description="Service plan GUIDs to switch off.")


class AssignLicense(Body):
    addLicenses: list[AssignedLicense] = Field(description="Licences to add (an empty list adds none).")
    removeLicenses: list[str] = Field(description="SKU GUIDs to remove (an empty list removes none).")

    def data(self) -> dict[str, Any]:
        return {
            "addLicenses": [license.model_dump() for license in self.addLicenses],
            "removeLicenses": list(self.removeLicenses),
        }


class ReprocessInError(Body):
    """Extension: which users in error to reprocess (every one of the tenant, or those in error for one SKU)."""

    skuId: str | None = Field(default=None, description="Only users with an entry of this SKU in error.")
