"""Request and response bodies of the service's own API (the PACT ones follow the PACT spec)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.ids import OtherId, ShipmentIdIn, string_problems

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "AnchorRequest",
    "ErrorBody",
    "JobOut",
    "OrganisationIn",
    "ReportRequest",
    "TokenOut",
    "TokenRevocationIn",
]


#: Reporting periods the service issues: from 1970 to 2999 (the period's end, the day after
#: its last day, must stay a valid date).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


class ErrorBody(BaseModel):
    """Every error: a code and a message that says what to do (plus details for some)."""

    model_config = ConfigDict(extra="allow")
    code: str
    message: str


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int


class AnchorRequest(BaseModel):
    """Which shipments to anchor: the named ones, or every shipment not anchored yet."""

    model_config = ConfigDict(extra="forbid")
    shipment_ids: list[ShipmentIdIn] | None = Field(default=None, min_length=1,
                                                    max_length=100000)


class JobOut(BaseModel):
    id: str
    kind: str
    state: Literal["queued", "running", "done", "failed"]
    phase: str
    done: int
    total: int
    result: Any = None
    error: str | None = None
    created_at: str
    updated_at: str


class ReportRequest(BaseModel):
    """A report of anchored shipments for a reporting period (first and last day)."""

    model_config = ConfigDict(extra="forbid")
    shipment_ids: list[ShipmentIdIn] = Field(min_length=1, max_length=1000)
    first_day: date = Field(ge=FIRST_DAY, le=LAST_DAY)
    last_day: date = Field(ge=FIRST_DAY, le=LAST_DAY)
    declarant: dict[str, Any] | None = None

    @field_validator("declarant")
    @classmethod
    def _text_only(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        fields = string_problems(value)
        if fields:
            raise ValueError(f"unpaired surrogate in {', '.join(fields)}")
        return value


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: OtherId = Field(min_length=1, max_length=200)
    role: Literal["exporter", "auditor", "buyer", "importer", "admin"]
    private_key: str | None = Field(default=None, pattern=r"^(0x)?[0-9a-fA-F]{64}$",
                                    description="Supply the organisation's own key (else one is "
                                                "generated); it is sealed and never returned.")
    eori: str | None = Field(default=None, min_length=3, max_length=17,
                             description="An importer's EORI number (required for importers, "
                                         "refused for the other roles): the consignments naming "
                                         "it are the importer's to read and declare.")

    @model_validator(mode="after")
    def _eori_for_importers(self) -> OrganisationIn:
        from ledger.inputs.consignment import eori_problem

        if self.role != "importer":
            if self.eori is not None:
                raise ValueError("eori is given only for an importer")
            return self
        if self.eori is None:
            raise ValueError("an importer needs its eori")
        problem = eori_problem(self.eori)
        if problem:
            raise ValueError(f"eori: {problem}")
        return self


class TokenRevocationIn(BaseModel):
    """An access token to revoke."""

    model_config = ConfigDict(extra="forbid")
    token: OtherId = Field(min_length=1, max_length=200)
