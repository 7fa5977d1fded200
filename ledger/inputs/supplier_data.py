"""Supplier data: an installation's actual emissions per good, as its operator communicated them.

A :class:`SupplierData` is what an operator's "CBAM Communication template for installations"
says (read by :mod:`ledger.inputs.supplier_template`): the installation, the reporting period
of its data, per good (CN code) the specific embedded emissions (SEE) direct and indirect in
t CO2e per tonne, the verifier when the data are verified, and the installation's purchased
precursors as the template gives them (informational, never added to a footprint nor made a
shipment's precursors: :mod:`ledger.inputs.supplier_precursors`). The template names no
installation id (the CBAM registry's identifier of the installation): the importer gives it
when reading the template in, and it is how the data find their goods.

Supplier data become part of the anchored, signed records like this (one rule, no hidden
state): :func:`apply_supplier_data` writes the figures into the production data of every
shipment whose product names the same ``installation.installation_id`` and whose CN code is a
good of the template, as ``actual-verified`` (a verifier is named in the template) or
``actual-unverified`` data. The footprint then uses them as actual data (Regulation (EU)
2023/956, Art. 7(2)(a) as replaced by Regulation (EU) 2025/2083: embedded emissions determined
from actual emissions by points 2 and 3 of Annex IV), and anchoring and reports carry them like
any other input; the record hash covers them. Data read from a template file also give each
such shipment ``production.supplier_document`` (:meth:`SupplierData.document`: the file's name
and SHA-256, the installation id, the reporting period, the template version), so a record
names the file its figures came from. The supplier-data document itself
(:meth:`SupplierData.to_dict`, schema ``carbon-ledger/supplier-data/v1``) keeps the file's name
and SHA-256 and the cell each figure was read from, so each figure of a record can be traced to
its cell.

The installation data the shipment does not give (country, operator, production route: the
template's production process of the good) are taken from the template; an installation
country that differs from the template's is an error (the id links the wrong installation).

Rules: a shipment that already declares its production emissions (actual data, electricity
use, a product default; anything but ``data_type: default`` alone) is not overwritten (a
problem names it); a shipment of the installation whose CN code is not in the template keeps
what it had, and the result says so; figures keep the 6 decimals (10**-6 t CO2e per tonne)
the footprint engine computes with, rounded half up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ledger.errors import InputError, InputProblem
from ledger.factors.cbam import normalise_cn
from ledger.inputs.consignment import Verification, parse_date_text
from ledger.inputs.shipments import Production, Shipment
from ledger.inputs.supplier_document import SupplierDocument
from ledger.inputs.supplier_precursors import PurchasedPrecursor, precursors_from_list

__all__ = [
    "SUPPLIER_DATA_SCHEMA",
    "AppliedSupplierData",
    "SupplierData",
    "SupplierGood",
    "SupplierInstallation",
    "SupplierVerifier",
    "apply_supplier_data",
    "decimal_places",
]

#: The ``schema`` value of supplier-data documents.
SUPPLIER_DATA_SCHEMA = "carbon-ledger/supplier-data/v1"
_PLACES = 6
_QUANTUM = Decimal(1).scaleb(-_PLACES)


def decimal_places(value: Decimal, places: int = _PLACES) -> Decimal:
    """``value`` rounded half up to ``places`` decimals, trailing zeros removed."""
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return rounded.normalize() if rounded != 0 else Decimal(0)


def _text(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (``2.30`` -> ``2.3``), as a spreadsheet
    cell gives it back."""
    return format(value.normalize(), "f") if value else "0"


@dataclass(frozen=True)
class SupplierInstallation:
    """The installation as the template describes it (name in English, address, location)."""

    name: str
    country: str
    street: str | None = None
    economic_activity: str | None = None
    city: str | None = None
    un_locode: str | None = None
    latitude: str | None = None
    longitude: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class SupplierVerifier:
    """The verifier of the installation's data and its accreditation."""

    name: str
    street: str | None = None
    city: str | None = None
    postcode: str | None = None
    country: str | None = None
    accreditation_member_state: str | None = None
    accreditation_body: str | None = None
    accreditation_number: str | None = None

    @property
    def accreditation(self) -> str | None:
        """One line: body, member state and registration number, as far as given."""
        parts = [p for p in (self.accreditation_body,
                             f"({self.accreditation_member_state})"
                             if self.accreditation_member_state else None,
                             self.accreditation_number) if p]
        return " ".join(parts) or None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class SupplierGood:
    """One good of the template: its CN code and specific embedded emissions (t CO2e / t)."""

    cn_code: str
    direct_t_per_t: Decimal
    indirect_t_per_t: Decimal
    row: int | None = None
    product_name: str | None = None
    production_process: str | None = None
    goods_category: str | None = None
    default_share: Decimal | None = None
    embedded_electricity_mwh_per_t: Decimal | None = None
    electricity_factor_t_per_mwh: Decimal | None = None
    electricity_factor_source: str | None = None
    main_reducing_agent: str | None = None

    @property
    def total_t_per_t(self) -> Decimal:
        return self.direct_t_per_t + self.indirect_t_per_t

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if value is None:
                continue
            out[name] = _text(value) if isinstance(value, Decimal) else value
        out["total_t_per_t"] = _text(self.total_t_per_t)
        return out


_GOOD_DECIMALS = ("direct_t_per_t", "indirect_t_per_t", "default_share",
                  "embedded_electricity_mwh_per_t", "electricity_factor_t_per_mwh")
_GOOD_TEXTS = ("product_name", "production_process", "goods_category",
               "electricity_factor_source", "main_reducing_agent")


@dataclass(frozen=True)
class SupplierData:
    """An installation's communicated actual data (see the module docstring)."""

    installation_id: str
    installation: SupplierInstallation
    period_start: date
    period_end: date
    goods: tuple[SupplierGood, ...]
    verifier: SupplierVerifier | None = None
    operator: str | None = None
    template_version: str | None = None
    source_sha256: str | None = None
    #: The name (without folders) of the template file the data were read from.
    source_file: str | None = None
    #: Figure -> ``Sheet!Cell`` it was read from (empty for data that were not read from a file).
    sources: Mapping[str, str] | None = None
    #: The installation's purchased precursors, informational: the goods' SEE include them
    #: (:mod:`ledger.inputs.supplier_precursors`).
    purchased_precursors: tuple[PurchasedPrecursor, ...] = ()

    @property
    def data_type(self) -> str:
        """``actual-verified`` when a verifier is named, ``actual-unverified`` otherwise."""
        return "actual-verified" if self.verifier is not None else "actual-unverified"

    def document(self) -> SupplierDocument | None:
        """The reference to the template file, for the shipments given these figures; None
        when the data were not read from a file (no file name or SHA-256)."""
        if self.source_file is None or self.source_sha256 is None:
            return None
        return SupplierDocument(file_name=self.source_file, sha256=self.source_sha256,
                                installation_id=self.installation_id,
                                period_start=self.period_start, period_end=self.period_end,
                                template_version=self.template_version)

    def good(self, cn_code: str) -> SupplierGood | None:
        digits = normalise_cn(cn_code)
        return next((g for g in self.goods if g.cn_code == digits), None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "schema": SUPPLIER_DATA_SCHEMA,
            "installation_id": self.installation_id,
            "installation": self.installation.to_dict(),
            "reporting_period": {"start": self.period_start.isoformat(),
                                 "end": self.period_end.isoformat()},
            "data_type": self.data_type,
            "goods": [g.to_dict() for g in self.goods],
        }
        if self.operator is not None:
            out["operator"] = self.operator
        if self.verifier is not None:
            out["verifier"] = self.verifier.to_dict()
        if self.template_version is not None:
            out["template_version"] = self.template_version
        if self.source_sha256 is not None:
            out["source_sha256"] = self.source_sha256
        if self.source_file is not None:
            out["source_file"] = self.source_file
        if self.purchased_precursors:
            out["purchased_precursors"] = [p.to_dict() for p in self.purchased_precursors]
        if self.sources:
            out["sources"] = dict(sorted(self.sources.items()))
        return out

    @classmethod
    def from_dict(cls, data: Any) -> SupplierData:
        """A supplier-data document read back; InputError names every bad field."""
        problems: list[InputProblem] = []

        def bad(name: str, message: str) -> None:
            problems.append(InputProblem(message, field=name))

        if not isinstance(data, Mapping) or data.get("schema") != SUPPLIER_DATA_SCHEMA:
            raise InputError(f"not a supplier-data document (schema {SUPPLIER_DATA_SCHEMA})")
        for key in data:
            if key not in _DOCUMENT_KEYS:
                bad(str(key), f"unknown key {key!r}; expected one of {', '.join(_DOCUMENT_KEYS)}")
        inst_id = data.get("installation_id")
        if not isinstance(inst_id, str) or not inst_id.strip():
            bad("installation_id", "installation_id is required (non-empty text)")
        raw_inst = data.get("installation")
        installation = None
        if not isinstance(raw_inst, Mapping) or not isinstance(raw_inst.get("name"), str) \
                or not isinstance(raw_inst.get("country"), str):
            bad("installation", "expected an object with at least name and country")
        else:
            installation = SupplierInstallation(**{
                k: str(v) for k, v in raw_inst.items()
                if k in SupplierInstallation.__dataclass_fields__})
        period = data.get("reporting_period")
        days: list[date | None] = []
        for key in ("start", "end"):
            text = period.get(key) if isinstance(period, Mapping) else None
            found = parse_date_text(text) if isinstance(text, str) else "missing"
            if isinstance(found, str):
                bad(f"reporting_period.{key}", f"reporting period {key}: {found}")
                days.append(None)
            else:
                days.append(found)
        goods: list[SupplierGood] = []
        raw_goods = data.get("goods")
        if not isinstance(raw_goods, list) or not raw_goods:
            bad("goods", "expected a non-empty list of goods")
            raw_goods = []
        for index, raw in enumerate(raw_goods, start=1):
            good = _good_from_mapping(raw, f"goods[{index}]", bad)
            if good is not None:
                goods.append(good)
        verifier = None
        raw_ver = data.get("verifier")
        if raw_ver is not None:
            if not isinstance(raw_ver, Mapping) or not isinstance(raw_ver.get("name"), str):
                bad("verifier", "expected an object with at least the verifier's name")
            else:
                verifier = SupplierVerifier(**{
                    k: str(v) for k, v in raw_ver.items()
                    if k in SupplierVerifier.__dataclass_fields__})
        precursors = precursors_from_list(data.get("purchased_precursors"), bad)
        if problems or installation is None or days[0] is None or days[1] is None:
            raise InputError(problems)
        sources = data.get("sources")
        document = cls(installation_id=str(inst_id).strip(), installation=installation,
                       period_start=days[0], period_end=days[1], goods=tuple(goods),
                       verifier=verifier, operator=_opt_text(data.get("operator")),
                       template_version=_opt_text(data.get("template_version")),
                       source_sha256=_opt_text(data.get("source_sha256")),
                       source_file=_opt_text(data.get("source_file")),
                       sources={str(k): str(v) for k, v in sources.items()}
                       if isinstance(sources, Mapping) else None,
                       purchased_precursors=precursors)
        stated = data.get("data_type")
        if stated is not None and stated != document.data_type:
            raise InputError([InputProblem(
                f"data_type {stated!r} does not match the document: {document.data_type} "
                "(actual-verified needs the verifier)", field="data_type")])
        return document


_DOCUMENT_KEYS = ("schema", "note", "installation_id", "operator", "installation",
                  "reporting_period", "data_type", "goods", "verifier", "template_version",
                  "source_sha256", "source_file", "purchased_precursors", "sources")
_GOOD_KEYS = ("cn_code", "row", "total_t_per_t", *_GOOD_DECIMALS, *_GOOD_TEXTS)


def _opt_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _number(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _good_from_mapping(raw: Any, name: str, bad: Any) -> SupplierGood | None:
    if not isinstance(raw, Mapping):
        bad(name, "expected an object")
        return None
    for key in raw:
        if key not in _GOOD_KEYS:
            bad(f"{name}.{key}", f"unknown key {key!r}; expected one of {', '.join(_GOOD_KEYS)}")
    cn = raw.get("cn_code")
    digits = normalise_cn(cn) if isinstance(cn, str) else None
    if digits is None:
        bad(f"{name}.cn_code", f"{cn!r} is not a CN code (4, 6 or 8 digits, or 10 for TARIC)")
    values: dict[str, Any] = {}
    for key in _GOOD_DECIMALS:
        text = raw.get(key)
        if text is None:
            continue
        number = _number(text)
        if number is None or not number.is_finite() or number < 0:
            bad(f"{name}.{key}", f"{key} {text!r} is not a number of zero or more")
            continue
        values[key] = number
    for key in ("direct_t_per_t", "indirect_t_per_t"):
        if key not in values and raw.get(key) is None:
            bad(f"{name}.{key}", f"a good needs {key}")
    for key in _GOOD_TEXTS:
        if isinstance(raw.get(key), str):
            values[key] = raw[key]
    if digits is None or "direct_t_per_t" not in values or "indirect_t_per_t" not in values:
        return None
    total = raw.get("total_t_per_t")
    if total is not None and _number(total) != values["direct_t_per_t"] \
            + values["indirect_t_per_t"]:
        bad(f"{name}.total_t_per_t", f"total_t_per_t {total!r} is not direct_t_per_t + "
            "indirect_t_per_t")
        return None
    row = raw.get("row")
    return SupplierGood(cn_code=digits, row=row if isinstance(row, int) else None, **values)


@dataclass(frozen=True)
class AppliedSupplierData:
    """Shipments with the supplier data in, and what happened to each shipment it concerned."""

    shipments: list[Shipment]
    applied: list[str]
    #: Shipments of the installation that kept their data, each with the reason.
    kept: list[tuple[str, str]]
    #: What a reader of the applied figures should know (e.g. a share of default values).
    notes: list[tuple[str, str]]


def apply_supplier_data(shipments: Sequence[Shipment], data: SupplierData
                        ) -> AppliedSupplierData:
    """Every shipment of ``data``'s installation gets the template's figures for its CN code as
    actual data (module docstring); InputError when one already carries actual data."""
    out: list[Shipment] = []
    applied: list[str] = []
    kept: list[tuple[str, str]] = []
    notes: list[tuple[str, str]] = []
    problems: list[InputProblem] = []
    verification = None
    if data.verifier is not None:
        verification = Verification(verifier=data.verifier.name,
                                    accreditation=data.verifier.accreditation)
    for shipment in shipments:
        product = shipment.product
        installation = product.installation if product is not None else None
        if product is None or installation is None \
                or installation.installation_id != data.installation_id:
            out.append(shipment)
            continue
        good = data.good(product.cn_code) if product.cn_code else None
        if good is None:
            kept.append((shipment.shipment_id, f"CN {product.cn_code} is not a good of the "
                         f"supplier data of installation {data.installation_id}"))
            out.append(shipment)
            continue
        current = product.production
        if current is not None and current.kind != "declared_default":
            what = "actual data" if current.actual else \
                f"its production emissions ({current.kind.replace('_', ' ')})"
            problems.append(InputProblem(
                f"the shipment already carries {what}; remove them to use the supplier data "
                "of the template", shipment_id=shipment.shipment_id,
                field="product.production"))
            out.append(shipment)
            continue
        production = Production(
            data_type=data.data_type,
            direct_t_per_t=decimal_places(good.direct_t_per_t),
            indirect_t_per_t=decimal_places(good.indirect_t_per_t),
            electricity_factor_t_per_mwh=(
                None if good.electricity_factor_t_per_mwh is None
                else decimal_places(good.electricity_factor_t_per_mwh)),
            verification=verification, supplier_document=data.document())
        if installation.country is not None and installation.country != data.installation.country:
            problems.append(InputProblem(
                f"the installation is in {installation.country} but the template of "
                f"installation {data.installation_id} says {data.installation.country}",
                shipment_id=shipment.shipment_id, field="product.installation.country"))
            out.append(shipment)
            continue
        # what the shipment does not say of its installation, the template does
        filled = replace(
            installation, country=installation.country or data.installation.country,
            operator=installation.operator or data.operator,
            production_route=installation.production_route or good.production_process)
        updated = replace(shipment, product=replace(product, production=production,
                                                    installation=filled))
        try:
            # the model's own rules (limits, decimals, verifier) decide, as for any file
            out.append(Shipment.from_dict(updated.to_dict()))
        except InputError as exc:
            problems.extend(exc.problems)
            out.append(shipment)
            continue
        applied.append(shipment.shipment_id)
        if good.default_share:
            share = (good.default_share * 100).normalize()
            notes.append((shipment.shipment_id, f"the template says {share:f}"
                          f"% of the emissions of CN {good.cn_code} come from default values "
                          "(share of emissions by default value)"))
    if problems:
        raise InputError(problems)
    return AppliedSupplierData(shipments=out, applied=applied, kept=kept, notes=notes)
