"""Consignment data of a shipment and installation data of its goods (CBAM definitive period).

A consignment (per shipment, all optional): dates of dispatch, arrival and customs release, the
importer and the declarant, the consignee, commercial and customs references, the Incoterm. The
customs release date is the import date: its year and quarter place the goods in a CBAM period
(Regulation (EU) 2023/956, Art. 6(1) as replaced by Regulation (EU) 2025/2083: the annual
declaration covers the goods imported in the preceding calendar year) and its year chooses the
mark-up of the default values.

A good (per product): the installation that produced it, and the data type of its emissions,
with the verification of actual data and its precursors (:class:`Verification`,
:class:`Precursor`; they sit in the production data of :mod:`ledger.inputs.shipments`).

Forms checked here, each with its source:

- EORI number: the issuing country's two-letter code and up to 15 alphanumeric characters (17 at
  most; the format of the EORI number in Annex 12-01 of Commission Implementing Regulation (EU)
  2015/2447, as the Commission's EORI guidance describes it). Only the form is checked, not the
  registration.
- Incoterm: one of the eleven rules of Incoterms 2020 (International Chamber of Commerce).
- Dates: ISO 8601 calendar dates (``2026-03-31``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

__all__ = [
    "ACTUAL_DATA_TYPES",
    "CONSIGNMENT_KEYS",
    "DATA_TYPES",
    "DEFINITIVE_PERIOD_START",
    "INCOTERMS_2020",
    "INSTALLATION_KEYS",
    "PARTY_KEYS",
    "PRECURSOR_KEYS",
    "VERIFICATION_KEYS",
    "Consignment",
    "Fields",
    "Installation",
    "Party",
    "Precursor",
    "Verification",
    "consignment_from_mapping",
    "date_problem",
    "eori_problem",
    "incoterm_problem",
    "installation_from_mapping",
    "parse_date_text",
    "precursors_from_list",
    "verification_from_mapping",
]

#: Data types of a good's emissions. ``actual`` is the form of the first files (actual data with
#: no statement on verification), still read; new files say ``actual-unverified`` or
#: ``actual-verified``.
DATA_TYPES = ("default", "actual-unverified", "actual-verified", "actual")
ACTUAL_DATA_TYPES = frozenset({"actual", "actual-unverified", "actual-verified"})

#: The eleven rules of Incoterms 2020 (ICC): any mode, then sea and inland waterway only.
INCOTERMS_2020 = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF")

#: First day of the CBAM definitive period (Regulation (EU) 2023/956, Art. 32: the transitional
#: period runs until 31 December 2025).
DEFINITIVE_PERIOD_START = date(2026, 1, 1)

#: The keys a JSON object of each kind may have (any other is refused by the reader).
CONSIGNMENT_KEYS = ("dispatch_date", "arrival_date", "customs_release_date", "importer",
                    "declarant", "consignee", "bill_of_lading", "invoice_number",
                    "customs_declaration_number", "incoterm", "incoterm_place")
PARTY_KEYS = ("name", "eori")
INSTALLATION_KEYS = ("operator", "installation_id", "country", "production_route")
VERIFICATION_KEYS = ("verifier", "accreditation", "date")
PRECURSOR_KEYS = ("cn_code", "quantity_t_per_t", "embedded_t_per_t")

_EORI = re.compile(r"^[A-Z]{2}[A-Z0-9]{1,15}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_MAX_TEXT = 256


def eori_problem(text: str) -> str | None:
    """Why ``text`` is not an EORI number in form, or None."""
    if _EORI.match(text):
        return None
    return (f"{text!r} is not an EORI number: two capital letters of the issuing country and "
            "up to 15 letters or digits, no spaces (e.g. NL123456789; Implementing Regulation "
            "(EU) 2015/2447, Annex 12-01)")


def incoterm_problem(text: str) -> str | None:
    """Why ``text`` is not an Incoterms 2020 rule, or None."""
    if text in INCOTERMS_2020:
        return None
    return f"unknown Incoterm {text!r}; expected one of Incoterms 2020: {', '.join(INCOTERMS_2020)}"


def parse_date_text(text: str) -> date | str:
    """An ISO 8601 calendar date (``2026-03-31``), or the message saying what is wrong."""
    stripped = text.strip()
    if _DATE.match(stripped):
        try:
            return date.fromisoformat(stripped)
        except ValueError:
            pass
    return f"{text!r} is not a date; write YYYY-MM-DD (e.g. 2026-03-31)"


def date_problem(text: str) -> str | None:
    found = parse_date_text(text)
    return found if isinstance(found, str) else None


class Fields(Protocol):
    """What the readers below need of :class:`ledger.inputs.shipments.FieldReader`."""

    data: Mapping[str, Any]

    def problem(self, name: str, message: str) -> None: ...
    def text(self, name: str) -> str | None: ...
    def decimal(self, name: str, *, positive: bool = True) -> Decimal | None: ...
    def nested(self, data: Mapping[str, Any], prefix: str) -> Fields: ...
    def only(self, known: Collection[str]) -> None: ...


@dataclass(frozen=True)
class Party:
    """An importer, declarant or other economic operator: name and EORI number."""

    name: str | None = None
    eori: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("name", self.name), ("eori", self.eori)) if v is not None}


@dataclass(frozen=True)
class Consignment:
    """Dates, parties, references and Incoterm of one shipment."""

    dispatch_date: date | None = None
    arrival_date: date | None = None
    customs_release_date: date | None = None
    importer: Party | None = None
    declarant: Party | None = None
    consignee: str | None = None
    bill_of_lading: str | None = None
    invoice_number: str | None = None
    customs_declaration_number: str | None = None
    incoterm: str | None = None
    incoterm_place: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in ("dispatch_date", "arrival_date", "customs_release_date"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.isoformat()
        for name in ("importer", "declarant"):
            party = getattr(self, name)
            if party is not None:
                out[name] = party.to_dict()
        for name in ("consignee", "bill_of_lading", "invoice_number",
                     "customs_declaration_number", "incoterm", "incoterm_place"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True)
class Installation:
    """The installation that produced a good (CBAM: operator, id, country, production route)."""

    operator: str | None = None
    installation_id: str | None = None
    country: str | None = None
    production_route: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (
            "operator", "installation_id", "country", "production_route")
            if getattr(self, name) is not None}


@dataclass(frozen=True)
class Verification:
    """Who verified the actual emissions of a good, with what accreditation, and when."""

    verifier: str | None = None
    accreditation: str | None = None
    date: date | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in (
            ("verifier", self.verifier), ("accreditation", self.accreditation)) if v is not None}
        if self.date is not None:
            out["date"] = self.date.isoformat()
        return out


@dataclass(frozen=True)
class Precursor:
    """A precursor of a good: its CN code, tonnes used per tonne of the good, and its specific
    embedded emissions in t CO2e per tonne of precursor. Informational: the good's specific
    embedded emissions already include them (Regulation (EU) 2023/956, Annex IV, point 3)."""

    cn_code: str | None = None
    quantity_t_per_t: Decimal | None = None
    embedded_t_per_t: Decimal | None = None

    def to_dict(self, fmt: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cn_code is not None:
            out["cn_code"] = self.cn_code
        for name in ("quantity_t_per_t", "embedded_t_per_t"):
            value = getattr(self, name)
            if value is not None:
                out[name] = fmt(value)
        return out


def _text(f: Fields, name: str) -> str | None:
    value = f.text(name)
    if value is not None and len(value) > _MAX_TEXT:
        f.problem(name, f"{name} is longer than {_MAX_TEXT} characters")
        return None
    return value


def _date(f: Fields, name: str) -> date | None:
    value = f.data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        f.problem(name, f"{value!r} is not a date; write YYYY-MM-DD")
        return None
    found = parse_date_text(value)
    if isinstance(found, str):
        f.problem(name, found)
        return None
    return found


def _party(f: Fields, name: str) -> Party | None:
    raw = f.data.get(name)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        f.problem(name, "expected an object with name and eori")
        return None
    p = f.nested(raw, f"{name}.")
    p.only(PARTY_KEYS)
    eori = p.text("eori")
    if eori is not None:  # as spreadsheets and forms give it: any case, spaces between groups
        eori = "".join(eori.split()).upper()
    if eori is not None and eori_problem(eori):
        p.problem("eori", eori_problem(eori) or "")
        eori = None
    party = Party(name=_text(p, "name"), eori=eori)
    return party if party.to_dict() else None


def consignment_from_mapping(data: Any, f: Fields) -> Consignment | None:
    """The consignment of a shipment (``f`` reads the shipment), problems recorded in ``f``."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        f.problem("consignment", "expected an object")
        return None
    c = f.nested(data, "consignment.")
    c.only(CONSIGNMENT_KEYS)
    incoterm = c.text("incoterm")
    if incoterm is not None and incoterm_problem(incoterm):
        c.problem("incoterm", incoterm_problem(incoterm) or "")
        incoterm = None
    found = Consignment(
        dispatch_date=_date(c, "dispatch_date"), arrival_date=_date(c, "arrival_date"),
        customs_release_date=_date(c, "customs_release_date"),
        importer=_party(c, "importer"), declarant=_party(c, "declarant"),
        consignee=_text(c, "consignee"), bill_of_lading=_text(c, "bill_of_lading"),
        invoice_number=_text(c, "invoice_number"),
        customs_declaration_number=_text(c, "customs_declaration_number"),
        incoterm=incoterm, incoterm_place=_text(c, "incoterm_place"))
    for earlier, later in (("dispatch_date", "arrival_date"),
                           ("arrival_date", "customs_release_date"),
                           ("dispatch_date", "customs_release_date")):
        first, second = getattr(found, earlier), getattr(found, later)
        if first is not None and second is not None and second < first:
            c.problem(later, f"{later} {second.isoformat()} is before {earlier} "
                      f"{first.isoformat()}")
            break
    if found.incoterm_place is not None and data.get("incoterm") in (None, ""):
        c.problem("incoterm_place", "incoterm_place needs the incoterm it names the place of")
    return found if found.to_dict() else None


def installation_from_mapping(data: Any, f: Fields) -> Installation | None:
    """The installation of a good (``f`` reads the product)."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        f.problem("installation", "expected an object")
        return None
    i = f.nested(data, "installation.")
    i.only(INSTALLATION_KEYS)
    country = i.text("country")
    if country is not None and not _COUNTRY.match(country):
        i.problem("country", f"{country!r} is not an ISO 3166 alpha-2 code (e.g. CN)")
        country = None
    found = Installation(operator=_text(i, "operator"),
                         installation_id=_text(i, "installation_id"), country=country,
                         production_route=_text(i, "production_route"))
    return found if found.to_dict() else None


def verification_from_mapping(data: Any, f: Fields) -> Verification | None:
    """The verification of a good's actual emissions (``f`` reads the production data)."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        f.problem("verification", "expected an object")
        return None
    v = f.nested(data, "verification.")
    v.only(VERIFICATION_KEYS)
    found = Verification(verifier=_text(v, "verifier"),
                         accreditation=_text(v, "accreditation"), date=_date(v, "date"))
    return found if found.to_dict() else None


def precursors_from_list(data: Any, f: Fields, cn_problem: Any) -> tuple[Precursor, ...]:
    """The precursors of a good (``f`` reads the production data); ``cn_problem(text)`` says
    why a code is not a CN code."""
    if data is None:
        return ()
    if not isinstance(data, list):
        f.problem("precursors", "expected a list of objects")
        return ()
    out: list[Precursor] = []
    for index, raw in enumerate(data, start=1):
        name = f"precursors[{index}]"
        if not isinstance(raw, Mapping):
            f.problem(name, "expected an object")
            continue
        p = f.nested(raw, f"{name}.")
        p.only(PRECURSOR_KEYS)
        cn = p.text("cn_code")
        if cn is None:
            p.problem("cn_code", "a precursor needs its CN code")
        elif cn_problem(cn):
            p.problem("cn_code", cn_problem(cn))
        quantity = p.decimal("quantity_t_per_t")
        if quantity is None and raw.get("quantity_t_per_t") in (None, ""):
            p.problem("quantity_t_per_t", "a precursor needs quantity_t_per_t (tonnes of "
                      "precursor per tonne of the good)")
        out.append(Precursor(cn_code=cn, quantity_t_per_t=quantity,
                             embedded_t_per_t=p.decimal("embedded_t_per_t", positive=False)))
    return tuple(out)
