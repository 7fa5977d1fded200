"""Importer endpoints: an EU importer (a CBAM declarant, identified by its EORI number) reads
the anchored consignments that name it, from any exporter, and its annual declaration.

- ``GET /v1/importer/consignments?year=Y``: the consignments released in ``Y`` that name the
  importer's EORI (as declarant, else as importer), with the running 50 t tally;
- ``GET /v1/importer/declaration?year=Y[&estimate=2026-Q2=80.50...][&warning_level_t=45]``: the
  declaration dataset as :func:`ledger.declaration.compute_declaration` computes it (lines by CN
  code, origin and installation; certificates; cost on the values used and on default values;
  the threshold), not signed;
- ``POST /v1/importer/declarations``: the same, signed with the importer's key (the report
  envelope), as a download.

What an importer reads is decided by its EORI alone, which only an admin sets when creating the
organisation; an exporter's records that do not name it are never shown or named to it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal
from api.context import ServiceContext
from api.deps import Context, requires
from api.errors import ApiError
from api.models import ErrorBody

__all__ = ["router"]

router = APIRouter(prefix="/v1/importer", tags=["importer"],
                   responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
                              403: {"model": ErrorBody}, 422: {"model": ErrorBody}})
Importer = Annotated[Principal, Depends(requires("importer"))]
Year = Annotated[int, Query(ge=2026, le=2100, description="Calendar year of the customs "
                                                          "release dates (definitive period)")]
Estimates = Annotated[list[str] | None, Query(
    alias="estimate", max_length=54,
    description="A labelled price estimate for a price period without a published price: a "
                "quarter for 2026 imports, YYYY-Qn=EUR (e.g. 2026-Q2=80.50), an ISO week from "
                "2027, YYYY-Www=EUR (e.g. 2027-W05=80.50); repeat for several periods")]
WarningLevel = Annotated[Decimal | None, Query(
    gt=0, le=50, description="Warning level of the 50 t tally, in tonnes (default 45)")]


class DeclarationIn(BaseModel):
    """What a signed declaration is made of, beside the anchored consignments."""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=2026, le=2100)
    estimates: list[str] = Field(default_factory=list, max_length=54,
                                 description="Price estimates, YYYY-Qn=EUR or YYYY-Www=EUR")
    warning_level_t: Decimal | None = Field(default=None, gt=0, le=50)


def _eori(ctx: ServiceContext, who: Principal) -> str:
    eori = ctx.store.org_eori(who.org_id)
    if eori is None:
        raise ApiError(409, "NoEori", "this importer organisation has no EORI number; an "
                                      "administrator sets it when creating the organisation")
    return eori


def _options(estimates: list[str] | None, warning_level_t: Decimal | None) -> Any:
    from ledger.declaration.options import DeclarationOptions, parse_estimates

    changes: dict[str, Any] = {"price_estimates": parse_estimates(estimates or [])}
    if warning_level_t is not None:
        changes["warning_level_t"] = warning_level_t
    return DeclarationOptions(**changes)


def _consignments(ctx: ServiceContext, eori: str, year: int) -> dict[str, Any]:
    from ledger.declaration.consignments import addressed_consignments
    from ledger.declaration.options import THRESHOLD_T, WARNING_LEVEL_T

    rows = addressed_consignments(ctx.store.ledger, eori, year)
    counted = sum(r.net_mass_g for r in rows if r.sector not in ("electricity", "hydrogen"))
    return {
        "eori": eori, "year": year,
        "consignments": [{
            "shipmentId": r.shipment_id, "exporter": r.exporter,
            "importDate": r.import_date.isoformat() if r.import_date else None,
            "cnCode": r.cn_code, "sector": r.sector, "originCountry": r.country,
            "installationId": r.installation_id, "operator": r.operator,
            "dataType": r.data_type, "verifier": r.verifier or None,
            "netMassKg": str(Decimal(r.net_mass_g) / 1000),
            "embeddedEmissionsKg": str(Decimal(r.embedded_g) / 1000),
        } for r in rows],
        "threshold": {
            "netMassT": str(Decimal(counted) / 10**6), "thresholdT": str(THRESHOLD_T),
            "warningLevelT": str(WARNING_LEVEL_T),
            "warning": Decimal(counted) / 10**6 >= WARNING_LEVEL_T,
            "liable": Decimal(counted) / 10**6 > THRESHOLD_T,
        },
    }


@router.get("/consignments")
def consignments(ctx: Context, who: Importer, year: Year) -> dict[str, Any]:
    """The anchored consignments released in ``year`` that name this importer's EORI, and the
    running tally of the 50 t threshold (electricity and hydrogen excluded)."""
    return _consignments(ctx, _eori(ctx, who), year)


def _compute(ctx: ServiceContext, eori: str, year: int, options: Any) -> Any:
    from ledger.declaration import compute_declaration

    return compute_declaration(ctx.store.ledger, eori, year, options=options,
                               only_addressed=True)


@router.get("/declaration")
async def declaration(ctx: Context, who: Importer, year: Year, estimate: Estimates = None,
                      warning_level_t: WarningLevel = None) -> dict[str, Any]:
    """The declaration dataset for ``year``, computed from the anchored consignments (not
    signed): lines, totals, certificates, cost, the forecast on default values, the threshold.
    """
    eori = _eori(ctx, who)
    options = _options(estimate, warning_level_t)
    made = await run_in_threadpool(_compute, ctx, eori, year, options)
    subject: dict[str, Any] = made.subject
    return subject


@router.post("/declarations", status_code=201)
async def sign_declaration(ctx: Context, who: Importer, body: DeclarationIn) -> JSONResponse:
    """The declaration for ``year``, signed with this importer's key, as a download
    (``cbam-declaration-EORI-YEAR.json``); ``carbon-ledger verify`` checks it."""
    from ledger.declaration import issue_declaration

    eori = _eori(ctx, who)
    options = _options(body.estimates, body.warning_level_t)

    def make() -> dict[str, Any]:
        made = _compute(ctx, eori, body.year, options)
        key = ctx.signing_key(who.org_id)
        return issue_declaration(made, issuer_key=key.secret(),
                                 issued_at=datetime.now(UTC).replace(microsecond=0))

    document = await run_in_threadpool(make)
    name = f"cbam-declaration-{eori}-{body.year}.json"
    return JSONResponse(document, status_code=201,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
