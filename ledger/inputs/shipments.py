"""Shipment input: the model (shipments of ordered legs, optional product data) and the JSON form.

Two file forms carry the same content (see docs/shipments-format.md), both read by
:func:`ledger.inputs.read.read_shipments`:

- CSV, one row per leg, read by the vectorised reader in :mod:`ledger.inputs.csvreader`;
- JSON, nested and iLEAP-like (``{"shipments": [{..., "legs": [...]}]}``), read here
  (:func:`shipments_from_json`).

The consignment data of a shipment (dates, importer, references, Incoterm) and the installation
of its goods are modelled in :mod:`ledger.inputs.consignment`.

Every problem of a file is collected and raised together as one :class:`InputError`, each naming
the shipment, the row (CSV line number; for JSON the shipment's position) and the field.
Numbers are exact decimals (strings in JSON are preferred, as in iLEAP); no float is kept.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.errors import InputError, InputProblem
from ledger.factors.cbam import normalise_cn
from ledger.factors.distances import location_syntax_problem
from ledger.inputs.consignment import (
    ACTUAL_DATA_TYPES,
    DATA_TYPES,
    Consignment,
    Installation,
    Precursor,
    Verification,
    consignment_from_mapping,
    installation_from_mapping,
    precursors_from_list,
    verification_from_mapping,
)
from ledger.inputs.hub import HUB_KEYS, HubOperation, hub_operation_from_mapping
from ledger.inputs.supplier_document import SupplierDocument, supplier_document_from_mapping

__all__ = [
    "BOOL_FALSE",
    "BOOL_TRUE",
    "CARRIER_KEYS",
    "DOCUMENT_KEYS",
    "LADEN_STATES",
    "LEG_KEYS",
    "LIMITS",
    "MODES",
    "PRODUCTION_KEYS",
    "PRODUCT_KEYS",
    "SHIPMENT_KEYS",
    "TRANSPORT_MODES",
    "FieldReader",
    "Leg",
    "Product",
    "Production",
    "Shipment",
    "check_legs",
    "format_decimal",
    "leg_problems",
    "mode_problem",
    "parse_bool_text",
    "parse_decimal_text",
    "parse_int_text",
    "parse_laden_text",
    "product_from_mapping",
    "product_problems",
    "shipments_from_json",
    "unknown_key_message",
]

TRANSPORT_MODES = ("road", "rail", "sea", "air", "inland_waterway")
MODES = (*TRANSPORT_MODES, "hub")
LADEN_STATES = {"average": "average", "50": "50", "50%": "50", "100": "100", "100%": "100"}
BOOL_TRUE = frozenset({"true", "yes", "1"})
BOOL_FALSE = frozenset({"false", "no", "0"})

#: (decimal places, largest value) of each numeric field.
LIMITS: Mapping[str, tuple[int, Decimal]] = {
    "mass_kg": (3, Decimal(10**9)),
    "net_mass_kg": (3, Decimal(10**9)),
    "distance_km": (3, Decimal(10**5)),
    "hub_co2e_ttw_kg_per_t": (6, Decimal(10**5)),
    "hub_co2e_wtw_kg_per_t": (6, Decimal(10**5)),
    "carrier_co2e_ttw_kg_per_tkm": (6, Decimal(100)),
    "carrier_co2e_wtt_kg_per_tkm": (6, Decimal(100)),
    "direct_t_per_t": (6, Decimal(10**4)),
    "indirect_t_per_t": (6, Decimal(10**4)),
    "electricity_kwh_per_t": (3, Decimal(10**8)),
    "electricity_factor_t_per_mwh": (6, Decimal(10)),
    "quantity_t_per_t": (6, Decimal(10**4)),
    "embedded_t_per_t": (6, Decimal(10**4)),
    # a hub operator's energy carriers (ledger.inputs.hub): share of the hub activity, and
    # kg CO2e per energy consumption unit
    "relative_share": (6, Decimal(1)),
    "emission_factor_ttw": (6, Decimal(10**3)),
    "emission_factor_wtw": (6, Decimal(10**3)),
}

#: The keys a JSON object of each kind may have; any other key is refused (as an unknown CSV
#: column is), with the closest known key as a hint.
DOCUMENT_KEYS = ("shipments", "note")
SHIPMENT_KEYS = ("shipment_id", "exporter", "legs", "product", "consignment")
#: The carrier's own intensity of a transport leg (primary data, ISO 14083): TTW and WTT in
#: kg CO2e per t·km, its source, the period it covers and whether it was verified.
CARRIER_KEYS = ("carrier_co2e_ttw_kg_per_tkm", "carrier_co2e_wtt_kg_per_tkm", "carrier_source",
                "carrier_period", "carrier_verified")
LEG_KEYS = ("leg", "mode", "mass_kg", "origin", "destination", "distance_km", "vehicle_class",
            "laden_state", "refrigerated", "radiative_forcing", "avoid_suez",
            "hub_co2e_ttw_kg_per_t", "hub_co2e_wtw_kg_per_t", "avoid_panama", *CARRIER_KEYS,
            *HUB_KEYS)
PRODUCT_KEYS = ("description", "cn_code", "country_of_origin", "net_mass_kg", "cbam_year",
                "production", "installation")
PRODUCTION_KEYS = ("data_type", "direct_t_per_t", "indirect_t_per_t", "electricity_kwh_per_t",
                   "grid", "default_factor", "electricity_factor_t_per_mwh", "verification",
                   "precursors", "supplier_document")

_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_INTEGER = re.compile(r"^[0-9]{1,9}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MAX_ID = 128


def unknown_key_message(key: str, known: Collection[str]) -> str:
    """What to say of an unknown key: the closest known key, else the list of known keys."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = (f"did you mean {close[0]!r}?" if close
            else f"expected one of {', '.join(sorted(known))}")
    return f"unknown key {key!r}; {hint}"


def format_decimal(value: Decimal) -> str:
    """Canonical decimal text: no exponent, no trailing zeros ("12000.50" -> "12000.5")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def parse_decimal_text(text: str, name: str, *, positive: bool = True) -> Decimal | str:
    """The exact value of a decimal field, or the message that says what is wrong with it."""
    places, largest = LIMITS[name]
    if text.startswith("-") and _NUMBER.match(text[1:]):
        return (f"must be greater than 0, got {text}" if positive
                else f"must not be negative, got {text}")
    if not _NUMBER.match(text):
        return f"{text!r} is not a number (write a plain decimal such as 12.5)"
    value = Decimal(text)
    if positive and value <= 0:
        return f"must be greater than 0, got {text}"
    if value > largest:
        return f"{text} is larger than the limit {largest}"
    frac = text.partition(".")[2].rstrip("0")
    if len(frac) > places:
        return f"{text} has more than {places} decimal places"
    return value


def parse_bool_text(text: str) -> bool | str:
    """true/yes/1 or false/no/0 (any case), or the message saying it is neither."""
    lowered = text.strip().lower()
    if lowered in BOOL_TRUE:
        return True
    if lowered in BOOL_FALSE:
        return False
    return f"{text!r} is not true or false"


def parse_int_text(text: str, low: int, high: int) -> int | str:
    """A whole number from ``low`` to ``high``, or the message saying what is wrong."""
    stripped = text.strip()
    if not _INTEGER.match(stripped) or not low <= int(stripped) <= high:
        return f"{text!r} is not a whole number from {low} to {high}"
    return int(stripped)


def parse_laden_text(text: str) -> str | tuple[str]:
    """The normalised laden state ("average", "50", "100"), or (message,) if unknown."""
    found = LADEN_STATES.get(text.strip().lower())
    if found is None:
        return (f"unknown laden_state {text!r}; expected average, 50 or 100",)
    return found


def mode_problem(text: str) -> str | None:
    if text not in MODES:
        return f"unknown mode {text!r}; expected one of {', '.join(MODES)}"
    return None


@dataclass(frozen=True)
class Leg:
    """One transport-chain element: a transport leg, or a hub operation (``mode="hub"``)."""

    order: int
    mode: str
    mass_kg: Decimal
    origin: str | None = None
    destination: str | None = None
    distance_km: Decimal | None = None
    vehicle_class: str | None = None
    laden_state: str | None = None
    refrigerated: bool | None = None
    radiative_forcing: bool | None = None
    avoid_suez: bool | None = None
    hub_co2e_ttw_kg_per_t: Decimal | None = None
    hub_co2e_wtw_kg_per_t: Decimal | None = None
    avoid_panama: bool | None = None
    source_row: int | None = field(default=None, compare=False)
    carrier_co2e_ttw_kg_per_tkm: Decimal | None = None
    carrier_co2e_wtt_kg_per_tkm: Decimal | None = None
    carrier_source: str | None = None
    carrier_period: str | None = None
    carrier_verified: bool | None = None
    #: The hub operator's hub type and energy carriers (:mod:`ledger.inputs.hub`).
    hub_operation: HubOperation | None = None

    @property
    def primary(self) -> bool:
        """Whether the leg carries the carrier's own intensity (primary data)."""
        return self.carrier_co2e_ttw_kg_per_tkm is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"leg": self.order, "mode": self.mode,
                               "mass_kg": format_decimal(self.mass_kg)}
        for name in ("origin", "destination", "vehicle_class", "laden_state", "refrigerated",
                     "radiative_forcing", "avoid_suez", "avoid_panama", "carrier_source",
                     "carrier_period", "carrier_verified"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for name in ("distance_km", "hub_co2e_ttw_kg_per_t", "hub_co2e_wtw_kg_per_t",
                     "carrier_co2e_ttw_kg_per_tkm", "carrier_co2e_wtt_kg_per_tkm"):
            value = getattr(self, name)
            if value is not None:
                out[name] = format_decimal(value)
        if self.hub_operation is not None:
            out.update(self.hub_operation.to_dict())
        return out


@dataclass(frozen=True)
class Production:
    """Cradle-to-gate emissions of the goods: supplier data, electricity use, or a default.

    Supplier data carry the data type of the good's emissions (:data:`DATA_TYPES`): its
    specific embedded emissions (direct, indirect), and for actual data the electricity
    emission factor, the precursors, the supplier document the figures were read from and, for
    ``actual-verified``, the verification. A data type
    ``default`` alone (no figures) declares that the CBAM default value applies.
    """

    data_type: str | None = None
    direct_t_per_t: Decimal | None = None
    indirect_t_per_t: Decimal | None = None
    electricity_kwh_per_t: Decimal | None = None
    grid: str | None = None
    default_factor: str | None = None
    electricity_factor_t_per_mwh: Decimal | None = None
    verification: Verification | None = None
    precursors: tuple[Precursor, ...] = ()
    #: The communication file the figures were read from (:mod:`ledger.inputs.supplier_document`).
    supplier_document: SupplierDocument | None = None

    @property
    def kind(self) -> str:
        if self.electricity_kwh_per_t is not None:
            return "electricity"
        if self.default_factor is not None:
            return "product_default"
        if self.direct_t_per_t is None and self.indirect_t_per_t is None \
                and self.data_type == "default":
            return "declared_default"
        return "supplier"

    @property
    def actual(self) -> bool:
        """Whether the CBAM figure uses these (the installation's actual) emissions."""
        return self.kind == "supplier" and self.data_type in ACTUAL_DATA_TYPES

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("data_type", "grid", "default_factor"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("direct_t_per_t", "indirect_t_per_t", "electricity_kwh_per_t",
                     "electricity_factor_t_per_mwh"):
            value = getattr(self, name)
            if value is not None:
                out[name] = format_decimal(value)
        if self.verification is not None:
            out["verification"] = self.verification.to_dict()
        if self.precursors:
            out["precursors"] = [p.to_dict(format_decimal) for p in self.precursors]
        if self.supplier_document is not None:
            out["supplier_document"] = self.supplier_document.to_dict()
        return out


@dataclass(frozen=True)
class Product:
    """What the shipment carries: description, CN code, origin, mass and production data."""

    description: str | None = None
    cn_code: str | None = None
    country_of_origin: str | None = None
    net_mass_kg: Decimal | None = None
    cbam_year: int | None = None
    production: Production | None = None
    installation: Installation | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("description", "cn_code", "country_of_origin", "cbam_year"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.net_mass_kg is not None:
            out["net_mass_kg"] = format_decimal(self.net_mass_kg)
        if self.production is not None:
            out["production"] = self.production.to_dict()
        if self.installation is not None:
            out["installation"] = self.installation.to_dict()
        return out


@dataclass(frozen=True)
class Shipment:
    """A shipment: its id, ordered legs, and optional exporter, product and consignment data."""

    shipment_id: str
    legs: tuple[Leg, ...]
    exporter: str | None = None
    product: Product | None = None
    source_row: int | None = field(default=None, compare=False)
    consignment: Consignment | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of exactly the inputs that matter (numbers as decimal strings).

        Fields that are not given are left out, so a shipment without consignment or
        installation data has the dict (and the record hash) it had before those existed.
        """
        out: dict[str, Any] = {"shipment_id": self.shipment_id}
        if self.exporter is not None:
            out["exporter"] = self.exporter
        if self.product is not None:
            out["product"] = self.product.to_dict()
        if self.consignment is not None:
            out["consignment"] = self.consignment.to_dict()
        out["legs"] = [leg.to_dict() for leg in self.legs]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shipment:
        """The shipment described by ``data``; InputError lists every problem."""
        problems: list[InputProblem] = []
        shipment = _shipment_from_mapping(data, 1, problems)
        if problems or shipment is None:
            raise InputError(problems)
        return shipment


class FieldReader:
    """Reads typed fields from one JSON object, recording problems with their location."""

    def __init__(self, data: Mapping[str, Any], problems: list[InputProblem],
                 shipment_id: str | None, row: int, prefix: str) -> None:
        self.data, self.problems = data, problems
        self.shipment_id, self.row, self.prefix = shipment_id, row, prefix

    def problem(self, name: str, message: str) -> None:
        self.problems.append(InputProblem(message, self.shipment_id, self.row,
                                          self.prefix + name))

    def only(self, known: Collection[str]) -> None:
        """Record a problem for each key of the object that is not one of ``known``."""
        for key in self.data:
            if key not in known:
                self.problem(str(key), unknown_key_message(str(key), known))

    def nested(self, data: Mapping[str, Any], prefix: str) -> FieldReader:
        """A reader of an object inside this one (``prefix`` is its key and a dot)."""
        return FieldReader(data, self.problems, self.shipment_id, self.row,
                           self.prefix + prefix)

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            self.problem(name, f"expected text, got {value!r}")
            return None
        return value.strip()

    def decimal(self, name: str, *, positive: bool = True) -> Decimal | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            self.problem(name, f"{value!r} is not a number")
            return None
        parsed = parse_decimal_text(str(value).strip(), name.rsplit(".", 1)[-1],
                                    positive=positive)
        if isinstance(parsed, str):
            self.problem(name, parsed)
            return None
        return parsed

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        parsed = parse_bool_text(str(value))
        if isinstance(parsed, str):
            self.problem(name, parsed)
            return None
        return parsed

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        parsed = (f"{value!r} is not a whole number" if isinstance(value, bool)
                  else parse_int_text(str(value), low, high))
        if isinstance(parsed, str):
            self.problem(name, parsed)
            return None
        return parsed


def leg_problems(leg: Leg) -> list[tuple[str, str]]:
    """(field, message) for the rules that tie a leg's fields together."""
    out: list[tuple[str, str]] = []
    if leg.mode == "hub":
        if leg.hub_co2e_ttw_kg_per_t is None or leg.hub_co2e_wtw_kg_per_t is None:
            out.append(("hub_co2e_wtw_kg_per_t", "a hub operation needs the operator's "
                        "hub_co2e_ttw_kg_per_t and hub_co2e_wtw_kg_per_t (no default hub "
                        "factor is loaded)"))
        elif leg.hub_co2e_wtw_kg_per_t < leg.hub_co2e_ttw_kg_per_t:
            out.append(("hub_co2e_wtw_kg_per_t", "WTW intensity is below TTW (WTW = WTT + TTW)"))
        for name in ("distance_km", "vehicle_class", "laden_state", *CARRIER_KEYS):
            if getattr(leg, name) is not None:
                out.append((name, f"{name} does not apply to a hub operation"))
        control = leg.hub_operation.temperature_control if leg.hub_operation else None
        if leg.refrigerated is not None and control in ("ambient", "refrigerated") \
                and leg.refrigerated != (control == "refrigerated"):
            out.append(("hub_temperature_control", f"hub_temperature_control {control} "
                        f"contradicts refrigerated {str(leg.refrigerated).lower()}"))
        return out
    if leg.hub_operation is not None:
        out.append(("hub_type", "hub_type, hub_energy_carriers and hub_temperature_control "
                    "apply to hub operations only"))
    out.extend(_carrier_problems(leg))
    for name in ("hub_co2e_ttw_kg_per_t", "hub_co2e_wtw_kg_per_t"):
        if getattr(leg, name) is not None:
            out.append((name, f"{name} applies to hub operations only"))
    if leg.distance_km is None and (leg.origin is None or leg.destination is None):
        out.append(("distance_km", "a leg needs distance_km or both origin and destination"))
    return out


def _carrier_problems(leg: Leg) -> list[tuple[str, str]]:
    """The carrier's intensity comes whole: TTW, WTT, source and period (verified optional)."""
    given = [name for name in CARRIER_KEYS if getattr(leg, name) is not None]
    if not given:
        return []
    missing = [name for name in CARRIER_KEYS[:4] if getattr(leg, name) is None]
    return [(name, f"{name} is required with the carrier's own intensity (primary data "
             "needs TTW and WTT per t·km, their source and the period they cover)")
            for name in missing]


def product_problems(product: Product) -> list[tuple[str, str]]:
    """(field, message) for the rules that tie a product's fields together."""
    out: list[tuple[str, str]] = []
    prod = product.production
    if prod is None:
        return out
    variants = [prod.direct_t_per_t is not None or prod.indirect_t_per_t is not None,
                prod.electricity_kwh_per_t is not None or prod.grid is not None,
                prod.default_factor is not None]
    if prod.kind == "declared_default" and not any(variants):
        out.extend(_actual_only(prod))
        return out
    if sum(variants) != 1:
        out.append(("production", "give exactly one of: supplier data (direct_t_per_t, "
                    "indirect_t_per_t, data_type), electricity_kwh_per_t with grid, or "
                    "default_factor"))
    elif variants[0]:
        if prod.data_type is None:
            out.append(("production.data_type", "supplier data needs data_type actual or "
                        "default"))
        if prod.direct_t_per_t is None:
            out.append(("production.direct_t_per_t", "supplier data needs direct_t_per_t"))
    elif variants[1] and (prod.electricity_kwh_per_t is None or prod.grid is None):
        out.append(("production.grid", "electricity use needs both electricity_kwh_per_t and "
                    "grid (a grid factor key)"))
    if prod.data_type is not None and not variants[0]:
        out.append(("production.data_type", "data_type applies to supplier data (or "
                    "default alone)"))
    out.extend(_actual_only(prod))
    document, installation = prod.supplier_document, product.installation
    if document is not None and (installation is None
                                 or installation.installation_id != document.installation_id):
        out.append(("production.supplier_document.installation_id", "the supplier document is "
                    f"of installation {document.installation_id}, not of the shipment's "
                    "installation (product.installation.installation_id)"))
    return out


def _actual_only(prod: Production) -> list[tuple[str, str]]:
    """The rules of actual data: what only actual data carry, and the verifier of verified data
    (Regulation (EU) 2023/956, Art. 8: actual embedded emissions are verified by an accredited
    verifier)."""
    out: list[tuple[str, str]] = []
    actual = prod.data_type in ACTUAL_DATA_TYPES
    for name, given in (("electricity_factor_t_per_mwh",
                         prod.electricity_factor_t_per_mwh is not None),
                        ("precursors", bool(prod.precursors)),
                        ("supplier_document", prod.supplier_document is not None)):
        if given and not actual:
            out.append((f"production.{name}", f"{name} applies to actual data only (data_type "
                        "actual-unverified or actual-verified)"))
    if prod.data_type == "actual-verified":
        if prod.verification is None or prod.verification.verifier is None:
            out.append(("production.verification.verifier", "data_type actual-verified needs "
                        "the verifier's name (verification.verifier)"))
    elif prod.verification is not None:
        out.append(("production.verification", "a verification applies to data_type "
                    "actual-verified only"))
    return out


def _leg_from_mapping(data: Any, index: int, fields_of: FieldReader) -> Leg | None:
    prefix = f"legs[{index}]."
    if not isinstance(data, Mapping):
        fields_of.problem(f"legs[{index}]", "expected an object")
        return None
    f = FieldReader(data, fields_of.problems, fields_of.shipment_id, fields_of.row, prefix)
    before = len(f.problems)
    f.only(LEG_KEYS)
    order = f.integer("leg", 1, 10_000)
    if order is None and data.get("leg") in (None, ""):
        f.problem("leg", "leg (the order of the leg, 1, 2, ...) is required")
    mode = f.text("mode")
    if mode is None:
        f.problem("mode", "mode is required")
    elif mode_problem(mode):
        f.problem("mode", mode_problem(mode) or "")
    mass = f.decimal("mass_kg")
    if mass is None and data.get("mass_kg") in (None, ""):
        f.problem("mass_kg", "mass_kg is required")
    locs = {}
    for name in ("origin", "destination"):
        value = f.text(name)
        if value is not None:
            problem = location_syntax_problem(value)
            if problem:
                f.problem(name, problem)
        locs[name] = value
    laden = f.text("laden_state")
    if laden is not None:
        parsed_laden = parse_laden_text(laden)
        if isinstance(parsed_laden, tuple):
            f.problem("laden_state", parsed_laden[0])
            laden = None
        else:
            laden = parsed_laden
    leg = Leg(
        order=order or 0, mode=mode or "", mass_kg=mass or Decimal(0),
        origin=locs["origin"], destination=locs["destination"],
        distance_km=f.decimal("distance_km"), vehicle_class=f.text("vehicle_class"),
        laden_state=laden, refrigerated=f.boolean("refrigerated"),
        radiative_forcing=f.boolean("radiative_forcing"), avoid_suez=f.boolean("avoid_suez"),
        hub_co2e_ttw_kg_per_t=f.decimal("hub_co2e_ttw_kg_per_t", positive=False),
        hub_co2e_wtw_kg_per_t=f.decimal("hub_co2e_wtw_kg_per_t", positive=False),
        avoid_panama=f.boolean("avoid_panama"), source_row=fields_of.row,
        carrier_co2e_ttw_kg_per_tkm=f.decimal("carrier_co2e_ttw_kg_per_tkm", positive=False),
        carrier_co2e_wtt_kg_per_tkm=f.decimal("carrier_co2e_wtt_kg_per_tkm", positive=False),
        carrier_source=f.text("carrier_source"), carrier_period=f.text("carrier_period"),
        carrier_verified=f.boolean("carrier_verified"),
        hub_operation=hub_operation_from_mapping(data, f),
    )
    if len(f.problems) > before:
        return None
    for name, message in leg_problems(leg):
        f.problem(name, message)
    return leg if len(f.problems) == before else None


def _cn_problem(text: str) -> str | None:
    if normalise_cn(text) is None:
        return (f"{text!r} is not a CN code (2, 4, 6 or 8 digits, e.g. 7318 15) or TARIC "
                "code (10 digits)")
    return None


def product_from_mapping(data: Any, f: FieldReader) -> Product | None:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        f.problem("product", "expected an object")
        return None
    p = f.nested(data, "product.")
    before = len(p.problems)
    p.only(PRODUCT_KEYS)
    cn = p.text("cn_code")
    if cn is not None and _cn_problem(cn):
        p.problem("cn_code", _cn_problem(cn) or "")
    country = p.text("country_of_origin")
    if country is not None and not _COUNTRY.match(country):
        p.problem("country_of_origin", f"{country!r} is not an ISO 3166 alpha-2 code (e.g. CN)")
    production = None
    raw = data.get("production")
    if raw is not None:
        if not isinstance(raw, Mapping):
            p.problem("production", "expected an object")
        else:
            q = p.nested(raw, "production.")
            q.only(PRODUCTION_KEYS)
            data_type = q.text("data_type")
            if data_type is not None and data_type not in DATA_TYPES:
                q.problem("data_type", f"unknown data_type {data_type!r}; expected "
                          "default, actual-unverified or actual-verified")
            production = Production(
                data_type=data_type, direct_t_per_t=q.decimal("direct_t_per_t", positive=False),
                indirect_t_per_t=q.decimal("indirect_t_per_t", positive=False),
                electricity_kwh_per_t=q.decimal("electricity_kwh_per_t", positive=False),
                grid=q.text("grid"), default_factor=q.text("default_factor"),
                electricity_factor_t_per_mwh=q.decimal("electricity_factor_t_per_mwh",
                                                       positive=False),
                verification=verification_from_mapping(raw.get("verification"), q),
                precursors=precursors_from_list(raw.get("precursors"), q, _cn_problem),
                supplier_document=supplier_document_from_mapping(
                    raw.get("supplier_document"), q))
    product = Product(description=p.text("description"), cn_code=cn,
                      country_of_origin=country, net_mass_kg=p.decimal("net_mass_kg"),
                      cbam_year=p.integer("cbam_year", 2000, 2100), production=production,
                      installation=installation_from_mapping(data.get("installation"), p))
    if len(p.problems) == before:
        for name, message in product_problems(product):
            p.problem(name, message)
    if not product.to_dict():
        return None
    return product if len(p.problems) == before else None


def check_legs(legs: Iterable[Leg], report: Any) -> None:
    """Shipment-level leg rules: unique orders, at least one transport leg."""
    seen: set[int] = set()
    any_transport = False
    for leg in legs:
        if leg.order in seen:
            report(leg, "leg", f"duplicate leg order {leg.order}")
        seen.add(leg.order)
        any_transport = any_transport or leg.mode in TRANSPORT_MODES
    if seen and not any_transport:
        report(None, "mode", "a shipment needs at least one transport leg")


def _shipment_from_mapping(data: Any, row: int, problems: list[InputProblem]) -> Shipment | None:
    if not isinstance(data, Mapping):
        problems.append(InputProblem("expected an object", None, row, None))
        return None
    raw_id = data.get("shipment_id")
    sid = raw_id.strip() if isinstance(raw_id, str) else None
    f = FieldReader(data, problems, sid or None, row, "")
    before = len(problems)
    if not sid:
        f.problem("shipment_id", "shipment_id is required (non-empty text)")
    elif len(sid) > _MAX_ID:
        f.problem("shipment_id", f"shipment_id is longer than {_MAX_ID} characters")
    raw_legs = data.get("legs")
    legs: list[Leg] = []
    if not isinstance(raw_legs, list) or not raw_legs:
        f.problem("legs", "a shipment needs a non-empty list of legs")
    else:
        for i, raw in enumerate(raw_legs, start=1):
            leg = _leg_from_mapping(raw, i, f)
            if leg is not None:
                legs.append(leg)

    def report(leg: Leg | None, name: str, message: str) -> None:
        f.problem(f"legs[{legs.index(leg) + 1}].{name}" if leg is not None else f"legs.{name}",
                  message)

    check_legs(legs, report)
    f.only(SHIPMENT_KEYS)
    product = product_from_mapping(data.get("product"), f)
    consignment = consignment_from_mapping(data.get("consignment"), f)
    exporter = f.text("exporter")
    if len(problems) > before or not sid:
        return None
    return Shipment(shipment_id=sid, legs=tuple(sorted(legs, key=lambda leg: leg.order)),
                    exporter=exporter, product=product, source_row=row,
                    consignment=consignment)


def shipments_from_json(data: Any, *,
                        collect: list[InputProblem] | None = None) -> list[Shipment]:
    """Shipments from a parsed JSON document (``{"shipments": [...]}`` or a bare list).

    With ``collect``, problems are appended there and only valid shipments are returned.
    """
    items = data.get("shipments") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise InputError("expected a JSON object with a 'shipments' list")
    if isinstance(data, Mapping):
        unknown = [InputProblem(unknown_key_message(str(key), DOCUMENT_KEYS), None, None,
                                str(key)) for key in data if key not in DOCUMENT_KEYS]
        if unknown:
            raise InputError(unknown)
    problems: list[InputProblem] = []
    shipments: list[Shipment] = []
    seen: set[str] = set()
    for row, item in enumerate(items, start=1):
        shipment = _shipment_from_mapping(item, row, problems)
        if shipment is None:
            continue
        if shipment.shipment_id in seen:
            problems.append(InputProblem("duplicate shipment_id in the file",
                                         shipment.shipment_id, row, "shipment_id"))
        else:
            shipments.append(shipment)
        seen.add(shipment.shipment_id)
    if problems:
        if collect is None:
            raise InputError(problems)
        collect.extend(problems)
        bad = {p.shipment_id for p in problems}
        shipments = [s for s in shipments if s.shipment_id not in bad]
    return shipments

