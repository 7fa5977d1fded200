"""CBAM data for EU importers: QReport-structured XML and an annual-declaration summary.

The XML follows the Commission's QReport schema v17.03 (shipped in ``ledger/schemas/cbam/``,
namespace ``http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1``): ``QReport`` >
``ImportedGood`` > ``GoodsEmissions`` > ``DirectEmissions`` / ``IndirectEmissions``. Every document
is validated against that schema before it is returned.

Only goods of Annex I of Reg. (EU) 2023/956 get figures, and only production (embedded)
emissions: transport emissions are never CBAM embedded emissions. A good outside CBAM is listed
as out of scope in the summary, with no figure.

Code values that the schema leaves to the Commission's code lists are taken from the
Commission's sample report (``MeasurementUnit`` ``01`` for tonnes of net mass, ``EMU1`` for
tCO2e, ``ApplicableReportingTypeMethodology`` ``TOM01``, ``Role`` ``01``); their meanings are not
confirmed against the code lists, and the XML says so in its remarks. The declarant's
confirmations are written as ``false``: the file is a draft for the importer, who confirms.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

from lxml import etree

from ledger.errors import InputError, InputProblem, LedgerError

__all__ = [
    "CBAM_NAMESPACE",
    "Address",
    "CbamGood",
    "Declarant",
    "OutOfScopeGood",
    "decimal_text",
    "qreport_schema",
    "qreport_xml",
    "tonnes_from_grams",
    "validate_qreport",
]

CBAM_NAMESPACE = "http://xmlns.ec.eu/BusinessObjects/CBAM/Types/V1"
SCHEMA_FILE = "QReport_v17.03.xsd"

#: Where default values come from: the published columns "including mark-up" by import year.
DEFAULT_VALUES_SOURCE = "Implementing Regulation (EU) 2025/2621"

#: Code values as used in the Commission's sample QReport (meanings not confirmed, see module doc).
UNIT_TONNES = "01"
UNIT_EMISSIONS = "EMU1"
REPORTING_TYPE_METHODOLOGY = "TOM01"
DECLARANT_ROLE = "01"
MEASURE_INDICATOR = 0
NOT_REPORTED_METHOD_ID = "NA"

_GRAMS_PER_TONNE = Decimal(1_000_000)
_KG_PER_TONNE = Decimal(1000)


@dataclass(frozen=True)
class Address:
    """A postal address as the QReport ``AddressType`` wants it."""

    country: str
    city: str
    street: str | None = None
    number: str | None = None
    postcode: str | None = None
    subdivision: str | None = None


@dataclass(frozen=True)
class Declarant:
    """The reporting declarant (the EU importer or its representative)."""

    eori: str
    name: str
    address: Address
    nca_reference: str
    signature_place: str
    signatory: str
    position: str
    #: Customs procedure code of the import declaration (40: release for free circulation).
    requested_procedure: str = "40"


@dataclass(frozen=True)
class CbamGood:
    """One imported CBAM good with its embedded (production) emissions, as computed upstream.

    ``embedded_direct_g`` / ``embedded_indirect_g`` are integer grams of CO2e for the whole
    quantity; ``see_direct_t_per_t`` is the specific embedded emissions value applied (decimal
    string, tCO2e per tonne), and ``value_source`` cites it. For a default value,
    ``markup_year`` names the published column of the default-value table the value was read
    from (``2026``, ``2027``, ``2028+``); the mark-up is already in that value.
    """

    item_id: str
    cn_code: str
    description: str
    origin_country: str
    net_mass_kg: Decimal
    embedded_direct_g: int
    see_direct_t_per_t: Decimal
    method: str
    value_source: str
    import_date: date
    embedded_indirect_g: int | None = None
    see_indirect_t_per_t: Decimal | None = None
    markup_year: str | None = None
    annex_ii: bool = True
    production_method_id: str | None = None
    production_method_name: str | None = None
    indirect_determination_code: str | None = None
    electricity_source_code: str | None = None
    remarks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def net_mass_t(self) -> Decimal:
        return self.net_mass_kg / _KG_PER_TONNE

    @property
    def embedded_total_g(self) -> int:
        return self.embedded_direct_g + (self.embedded_indirect_g or 0)


@dataclass(frozen=True)
class OutOfScopeGood:
    """A good outside CBAM Annex I: reported as out of scope, never with a CBAM figure."""

    item_id: str
    cn_code: str | None
    description: str
    reason: str


def tonnes_from_grams(grams: int) -> Decimal:
    """Grams as tonnes (exact)."""
    return Decimal(grams) / _GRAMS_PER_TONNE


def decimal_text(value: Decimal, places: int) -> str:
    """A decimal with at most ``places`` fraction digits (half up), no exponent, trailing zeros
    trimmed: the decimal form of the schema's numbers and of the declaration summary."""
    quantum = Decimal(1).scaleb(-places)
    text = format(value.quantize(quantum, rounding=ROUND_HALF_UP), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _quarter(day: date) -> str:
    return f"Q{(day.month - 1) // 3 + 1}"


@functools.cache
def qreport_schema() -> etree.XMLSchema:
    """The Commission's QReport schema shipped with the package."""
    folder = resources.files("ledger.reports") / "schemas" / "cbam"
    with resources.as_file(folder / SCHEMA_FILE) as path:
        return etree.XMLSchema(etree.parse(str(path)))


def validate_qreport(xml: bytes) -> list[str]:
    """Schema violations of a QReport document (empty when valid)."""
    try:
        document = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    schema = qreport_schema()
    if schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def _check_goods(goods: Sequence[CbamGood]) -> None:
    problems: list[InputProblem] = []
    if not goods:
        problems.append(InputProblem("no CBAM good to report"))
    for good in goods:
        digits = good.cn_code.replace(" ", "")
        if not (digits.isdigit() and len(digits) == 8):
            problems.append(InputProblem(
                f"CN code {good.cn_code!r} must have 8 digits for the QReport CommodityCode",
                shipment_id=good.item_id, field="cn_code"))
        if len(good.origin_country) != 2:
            problems.append(InputProblem("origin country must be ISO 3166-1 alpha-2",
                                         shipment_id=good.item_id, field="origin_country"))
        if good.embedded_indirect_g is not None and not (
            good.see_indirect_t_per_t is not None and good.indirect_determination_code
            and good.electricity_source_code
        ):
            problems.append(InputProblem(
                "indirect emissions need their specific value, determination-type code and "
                "electricity-source code (CBAM code lists)",
                shipment_id=good.item_id, field="embedded_indirect_g"))
        if good.method not in {"default", "actual"}:
            problems.append(InputProblem(f"method {good.method!r}: expected default or actual",
                                         shipment_id=good.item_id, field="method"))
    quarters = {(g.import_date.year, _quarter(g.import_date)) for g in goods}
    if len(quarters) > 1:
        problems.append(InputProblem(
            f"goods span {len(quarters)} reporting quarters {sorted(quarters)}; "
            "write one QReport per quarter"))
    if problems:
        raise InputError(problems)


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{CBAM_NAMESPACE}}}{name}")
    if text is not None:
        element.text = text
    return element


def _address(parent: etree._Element, name: str, address: Address) -> None:
    node = _sub(parent, name)
    _sub(node, "Country", address.country)
    if address.subdivision:
        _sub(node, "SubDivision", address.subdivision)
    _sub(node, "City", address.city)
    if address.street:
        _sub(node, "Street", address.street)
    if address.number:
        _sub(node, "Number", address.number)
    if address.postcode:
        _sub(node, "Postcode", address.postcode)


def _method_text(good: CbamGood) -> str:
    if good.method == "actual":
        return f"Actual (installation) data: {good.value_source}"[:256]
    column = (f" from the published {good.markup_year} column (mark-up included) of "
              f"{DEFAULT_VALUES_SOURCE}" if good.markup_year is not None else "")
    return f"Default value{column}: {good.value_source}"[:256]


def _imported_good(root: etree._Element, number: int, good: CbamGood, procedure: str) -> None:
    node = _sub(root, "ImportedGood")
    _sub(node, "ItemNumber", str(number))
    digits = good.cn_code.replace(" ", "")
    commodity = _sub(node, "CommodityCode")
    _sub(commodity, "HsCode", digits[:6])
    _sub(commodity, "CnCode", digits[6:])
    _sub(_sub(commodity, "CommodityDetails"), "Description", good.description[:512])
    _sub(_sub(node, "OriginCountry"), "Country", good.origin_country)

    mass = decimal_text(good.net_mass_t, 6)
    quantity = _sub(node, "ImportedQuantity")
    _sub(quantity, "SequenceNumber", "1")
    _sub(_sub(quantity, "Procedure"), "RequestedProc", procedure)
    _sub(_sub(quantity, "ImportArea"), "ImportArea", "EU")
    measure = _sub(quantity, "MeasureProcedureImported")
    _sub(measure, "Indicator", str(MEASURE_INDICATOR))
    _sub(measure, "NetMass", mass)
    _sub(measure, "MeasurementUnit", UNIT_TONNES)
    imported = _sub(node, "MeasureImported")
    _sub(imported, "NetMass", mass)
    _sub(imported, "MeasurementUnit", UNIT_TONNES)

    direct_t = tonnes_from_grams(good.embedded_direct_g)
    indirect_t = tonnes_from_grams(good.embedded_indirect_g or 0)
    total_t = direct_t + indirect_t
    per_unit = total_t / good.net_mass_t if good.net_mass_t else Decimal(0)
    totals = _sub(node, "TotalEmissions")
    _sub(totals, "EmissionsPerUnit", decimal_text(per_unit, 7))
    _sub(totals, "OverallEmissions", decimal_text(total_t, 7))
    _sub(totals, "TotalDirect", decimal_text(direct_t, 7))
    _sub(totals, "TotalIndirect", decimal_text(indirect_t, 7))
    _sub(totals, "MeasurementUnit", UNIT_EMISSIONS)
    _sub(_sub(node, "Remarks"), "AdditionalInformation",
         f"Shipment {good.item_id}. Transport emissions are not included "
         "(they are not CBAM embedded emissions)."[:512])

    emissions = _sub(node, "GoodsEmissions")
    _sub(emissions, "SequenceNumber", "1")
    _sub(emissions, "ProductionCountry", good.origin_country)
    produced = _sub(emissions, "ProducedMeasure")
    _sub(produced, "NetMass", mass)
    _sub(produced, "MeasurementUnit", UNIT_TONNES)
    installation = _sub(emissions, "InstallationEmissions")
    _sub(installation, "OverallEmissions", decimal_text(total_t, 7))
    _sub(installation, "TotalDirect", decimal_text(direct_t, 7))
    _sub(installation, "TotalIndirect", decimal_text(indirect_t, 7))
    _sub(installation, "MeasurementUnit", UNIT_EMISSIONS)
    direct = _sub(emissions, "DirectEmissions")
    _sub(direct, "ApplicableReportingTypeMethodology", REPORTING_TYPE_METHODOLOGY)
    _sub(direct, "ApplicableReportingMethodology", _method_text(good))
    _sub(direct, "SpecificEmbeddedEmissions", decimal_text(good.see_direct_t_per_t, 7))
    _sub(direct, "MeasurementUnit", UNIT_EMISSIONS)
    if good.embedded_indirect_g is not None and good.see_indirect_t_per_t is not None:
        indirect = _sub(emissions, "IndirectEmissions")
        _sub(indirect, "DeterminationType", str(good.indirect_determination_code))
        _sub(indirect, "SpecificEmbeddedEmissions", decimal_text(good.see_indirect_t_per_t, 7))
        _sub(indirect, "MeasurementUnit", UNIT_EMISSIONS)
        _sub(indirect, "ElectricitySource", str(good.electricity_source_code))
    params = _sub(emissions, "ProdMethodQualifyingParams")
    _sub(params, "SequenceNumber", "1")
    _sub(params, "MethodId", good.production_method_id or NOT_REPORTED_METHOD_ID)
    _sub(params, "MethodName", good.production_method_name
         or "Production route not reported (default value applies)")
    remarks = [*good.remarks]
    if good.embedded_indirect_g is None:
        remarks.append("No indirect emissions: the value applied has no indirect component"
                       + (" (Annex II good: only direct emissions count)." if good.annex_ii
                          else "."))
    for index, text in enumerate(remarks[:9], start=1):
        remark = _sub(emissions, "RemarksEmissions")
        _sub(remark, "SequenceNumber", str(index))
        _sub(remark, "AdditionalInformation", text[:512])


def qreport_xml(
    goods: Sequence[CbamGood],
    declarant: Declarant,
    *,
    draft_report_id: str,
    submitted_at: str,
    signed_on: date,
    report_reference: str,
) -> bytes:
    """A schema-valid QReport XML document for CBAM goods of one reporting quarter.

    ``submitted_at`` is a UTC ``YYYY-MM-DDTHH:MM:SSZ`` timestamp; ``report_reference`` names the
    signed report the figures come from (written into the remarks).
    """
    _check_goods(goods)
    first = min(g.import_date for g in goods)
    root = etree.Element(f"{{{CBAM_NAMESPACE}}}QReport", nsmap={None: CBAM_NAMESPACE})
    _sub(root, "SubmissionDate", submitted_at)
    _sub(root, "DraftReportId", draft_report_id[:22])
    _sub(root, "ReportingPeriod", _quarter(first))
    _sub(root, "Year", str(first.year))
    _sub(root, "TotalImported", str(len(goods)))
    total_g = sum(g.embedded_total_g for g in goods)
    _sub(root, "TotalEmissions", decimal_text(tonnes_from_grams(total_g), 7))
    declarant_node = _sub(root, "Declarant")
    _sub(declarant_node, "IdentificationNumber", declarant.eori)
    _sub(declarant_node, "Name", declarant.name[:70])
    _sub(declarant_node, "Role", DECLARANT_ROLE)
    _address(declarant_node, "ActorAddress", declarant.address)
    _sub(_sub(root, "NationalCompetentAuth"), "ReferenceNumber", declarant.nca_reference)
    confirmation = _sub(_sub(root, "Signatures"), "ReportConfirmation")
    _sub(confirmation, "GlobalDataConfirmation", "false")
    _sub(confirmation, "UseOfDataConfirmation", "false")
    _sub(confirmation, "SignatureDate", signed_on.strftime("%Y%m%d"))
    _sub(confirmation, "SignaturePlace", declarant.signature_place)
    _sub(confirmation, "Signature", declarant.signatory)
    _sub(confirmation, "PositionOfPersonSending", declarant.position)
    _sub(_sub(root, "Remarks"), "AdditionalInformation", (
        f"Draft from the exporter's signed report {report_reference}. Code values follow the "
        "Commission sample report; check them against the CBAM code lists before submission."
    )[:512])
    for number, good in enumerate(goods, start=1):
        _imported_good(root, number, good, declarant.requested_procedure)
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    errors = validate_qreport(xml)
    if errors:
        raise LedgerError("the QReport does not validate against the Commission schema: "
                          + "; ".join(errors[:5]))
    return xml
