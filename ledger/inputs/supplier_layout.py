"""The layout of the Commission's "CBAM Communication template for installations" (xlsx).

Operators of installations send this workbook to importers with their actual emissions
(European Commission, DG TAXUD, "CBAM Communication template for installations", published on
https://taxation-customs.ec.europa.eu/carbon-border-adjustment-mechanism/cbam-communication-and-faqs_en,
version 2.1.1 of 2024-12-13, file
``CBAM Communication template for installations_en_20241213.xlsx``; © European Union, CC BY 4.0).
:mod:`ledger.inputs.supplier_template` reads it, :mod:`ledger.inputs.supplier_export` writes it.

The layout (sheet names and cells) is the one that independent public readings of the
Commission's file agree on; the Commission publishes no cell-level specification. Secondary
readings, checked 2026-12-03: GitHub ``zuemen/carbon-lei`` ``sdk/template.ts`` at commit
e2c54e1a0689acf7abc76ac3021e22361ccbec24 (the ``Summary_Communication`` cells of versions 2.1 and
2.1.1, the verifier cells, ``0_Versions``; tested on the Commission's worked example "Steel 3
Screws and nuts"); ``CetizionVerifica/CBAM-app`` ``docs/mappings/template-A_InstData.md`` at
a393af2c7851b0fab24dd9d7d2ca5314e546f557 (the ``A_InstData`` cells); ``neod00/cbam-local-pwa``
``src/lib/eu-template-export.ts`` at 2ad4f4570a5e74246ece7e1e33c4be7bee45c833 (the 19 sheet
names; ``E_PurchPrec`` blocks):

- Sheets: the workbook has 19 (``0_Versions``, ``a_Contents``, ``b_Guidelines&Conditions``,
  ``c_CodeLists``, ``A_InstData``, ``B_EmInst``, ``C_Emissions&Energy``, ``D_Processes``,
  ``E_PurchPrec``, ``F_Tools``, ``G_FurtherGuidance``, ``Summary_Processes``,
  ``Summary_Products``, ``Summary_Communication``, ``InputOutput``, ``Parameters_Constants``,
  ``Parameters_CNCodes``, ``Translations``, ``VersionDocumentation``). Read here:
  ``Summary_Communication`` (the sheet meant for the importer) and ``A_InstData``; the
  version, when present, from ``0_Versions`` (last version number in E9:E60).
- ``Summary_Communication``: installation name G12, street G13, economic activity G14, city
  G15, country G16 (ISO 3166 alpha-2 code), UN/LOCODE G17, latitude G18, longitude G19,
  reporting period start G20 and end G21; the goods table has its headers in row 25 and one
  good per row from 26 to 125: D production process, E aggregated goods category, F CN code,
  G CN name, H product name, I SEE (direct), J SEE (indirect), K SEE (total), L unit
  (``tCO2e/t``), M share of emissions by default values, N source of the electricity emission
  factor, O embedded electricity (MWh/t), then in version 2.1.1 P electricity emission factor
  (tCO2/MWh) and Q main reducing agent of the precursor (in version 2.1, without the factor
  column, the reducing agent is in P). The header cells F25, I25, J25, K25 and P25 are checked
  before any value is read, and tell the two versions apart.
- ``A_InstData``: reporting period start I9 and end L9, installation name I20, street I21,
  economic activity I22, post code I23, city I25, UN/LOCODE I27, latitude I28, longitude I29;
  verifier name I37, street I38, city I39, post code I40, country I41; accreditation member
  state I51, accreditation body I52, registration number I53.

Purchased precursors (``A_InstData`` rows 102-121, one block of 44 rows each in
``E_PurchPrec`` from row 14) are read as what they are, the installation's purchased
precursors, informational (:mod:`ledger.inputs.supplier_precursors`; cells in
:mod:`ledger.inputs.supplier_precursor_cells`): a good's SEE already includes the embedded
emissions of its precursors (Regulation (EU) 2023/956, Annex IV, point 3), and they are not a
shipment's precursors (no CN code, no tonnes per tonne of a good, no installation of origin).
Not read, because their cells could not be confirmed: the carbon price paid, the installation
totals and the verifier's site visit. The template names no installation id: the reader
takes it as an argument.
"""

from __future__ import annotations

__all__ = [
    "CONSUMED_PROCESSES",
    "FIRST_GOOD_ROW",
    "GOOD_COLUMNS",
    "HEADERS",
    "HEADER_ROW",
    "HEADER_V21",
    "HEADER_V211",
    "INSTALLATION_SHEET",
    "INST_INSTALLATION",
    "INST_PERIOD",
    "LAST_GOOD_ROW",
    "PERIOD_CELLS",
    "PRECURSOR_BLOCKS",
    "PRECURSOR_BLOCK_ROWS",
    "PRECURSOR_FIRST_ROW",
    "PRECURSOR_HEADERS",
    "PRECURSOR_LIST_COLUMNS",
    "PRECURSOR_LIST_HEADER_ROW",
    "PRECURSOR_OFFSETS",
    "PRECURSOR_SHEET",
    "PURCHASED_LINES",
    "SUMMARY_INSTALLATION",
    "SUMMARY_SHEET",
    "TEMPLATE_SHEETS",
    "UNIT",
    "VERIFIER",
    "VERSIONS_SHEET",
    "VERSION_ROWS",
    "block_row",
]

SUMMARY_SHEET = "Summary_Communication"
INSTALLATION_SHEET = "A_InstData"
VERSIONS_SHEET = "0_Versions"
#: The sheets of the Commission's workbook, in its order (19).
TEMPLATE_SHEETS = (
    "0_Versions", "a_Contents", "b_Guidelines&Conditions", "c_CodeLists", "A_InstData",
    "B_EmInst", "C_Emissions&Energy", "D_Processes", "E_PurchPrec", "F_Tools",
    "G_FurtherGuidance", "Summary_Processes", "Summary_Products", "Summary_Communication",
    "InputOutput", "Parameters_Constants", "Parameters_CNCodes", "Translations",
    "VersionDocumentation",
)
FIRST_GOOD_ROW = 26
LAST_GOOD_ROW = 125
HEADER_ROW = 25
UNIT = "tCO2e/t"
VERSION_ROWS = range(9, 61)

#: Summary_Communication: installation and reporting period.
SUMMARY_INSTALLATION = {"name": "G12", "street": "G13", "economic_activity": "G14",
                        "city": "G15", "country": "G16", "un_locode": "G17",
                        "latitude": "G18", "longitude": "G19"}
PERIOD_CELLS = ("G20", "G21")
#: Summary_Communication: goods columns common to versions 2.1 and 2.1.1.
GOOD_COLUMNS = {"production_process": "D", "goods_category": "E", "cn_code": "F",
                "cn_name": "G", "product_name": "H", "direct": "I", "indirect": "J",
                "total": "K", "unit": "L", "default_share": "M",
                "electricity_factor_source": "N", "embedded_electricity": "O"}
#: Header cells checked before reading (cell -> start of the template's English label).
HEADERS = {"F25": "CN Code", "I25": "SEE (direct)", "J25": "SEE (indirect)",
           "K25": "SEE (total)"}
HEADER_V211 = "Electricity EF"
HEADER_V21 = "The main reducing agent"
#: A_InstData: period, installation (the English name) and verifier.
INST_PERIOD = ("I9", "L9")
INST_INSTALLATION = {"name": "I20", "street": "I21", "economic_activity": "I22",
                     "postcode": "I23", "city": "I25", "un_locode": "I27",
                     "latitude": "I28", "longitude": "I29"}
VERIFIER = {"name": "I37", "street": "I38", "city": "I39", "postcode": "I40",
            "country": "I41", "accreditation_member_state": "I51",
            "accreditation_body": "I52", "accreditation_number": "I53"}

#: Purchased precursors (informational; see :mod:`ledger.inputs.supplier_precursors`). Read from
#: a public cell dump of the Commission's English file of 2024-12-13: GitHub
#: ``GordanVasilic/CBAMCalc`` at 983356a8fe7a0c54891924882437b63910c4acef,
#: ``ExcelAnalysis/E_PurchPrec/raw_data.csv`` and ``data_validations.csv``,
#: ``ExcelAnalysis/A_InstData/raw_data.csv`` and ``data_validations.csv`` (secondary, checked
#: 2026-12-03). ``A_InstData`` lists them in rows 102-121 under the headers of row 101 (D ID
#: ``PP1``..``PP20``, E "Production process": a drop-down of aggregated goods categories, F
#: "Country code": a drop-down of country codes, G-K "Route 1".."Route 5": drop-downs).
PRECURSOR_SHEET = "E_PurchPrec"
PRECURSOR_BLOCKS = 20
PRECURSOR_LIST_HEADER_ROW = 101
PRECURSOR_LIST_COLUMNS = {"goods_category": "E", "country": "F", "routes": "GHIJK"}
#: ``E_PurchPrec``: block k starts in row 14 + 44 (k - 1) (D "Purchased precursor k:", R ``PPk``).
#: Offsets in the block: (a) total purchased levels, lines 1-8 at +3..+10 (H production route,
#: K unit, L amount: number >= 0); (b) consumed in the installation's production processes 1-10
#: at +14..+23 (K unit, L amount >= 0); (c) consumed for other purposes at +24 (K unit, L amount
#: >= 0); (e) i. SEE (direct) at +35 (K unit, L value >= 0, M source: drop-down
#: measured/default/unknown), iv. SEE (indirect) at +38 (K unit, L value, computed by the
#: template from ii. and iii.), v. justification for default values at +40 (K, drop-down).
PRECURSOR_FIRST_ROW = 14
PRECURSOR_BLOCK_ROWS = 44
PURCHASED_LINES = range(1, 9)
CONSUMED_PROCESSES = range(1, 11)
PRECURSOR_OFFSETS = {"purchased": 2, "consumed": 13, "other": 24, "see_direct": 35,
                     "see_indirect": 38, "justification": 40}
#: Labels checked in each block read (offset, column, start of the template's English label).
PRECURSOR_HEADERS = ((0, "D", "Purchased precursor {k}"), (2, "L", "Amounts"),
                     (13, "L", "Amounts"),
                     (35, "E", "Specific embedded direct emissions"),
                     (38, "E", "Specific embedded indirect emissions"))


def block_row(k: int, offset: int) -> int:
    """The row of ``offset`` in purchased precursor block ``k`` (1-20) of ``E_PurchPrec``."""
    return PRECURSOR_FIRST_ROW + PRECURSOR_BLOCK_ROWS * (k - 1) + offset
