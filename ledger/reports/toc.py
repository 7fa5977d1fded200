"""iLEAP Transport Operation Categories (TOC) of the transport legs whose DESNZ category names
its fuel.

iLEAP Technical Specifications v1.0.0 §6.3 (data type ``TOC``), §6.6.6 (``EnergyCarrier``) and
§7.2.2 (a TOC as a PACT ProductFootprint). A TOC needs its energy carriers with their emission
factors. The ledger computes legs with DESNZ per-t·km factors; where the DESNZ category names the
fuel its vehicles burn (HGVs "all diesel", diesel and petrol vans; freight flights burn aviation
turbine fuel), the leg's TOC is stated honestly:

- ``tocId``: ``<factor table edition>:<factor key>`` (``defra-2025:road.hgv_all.average``), one
  TOC per DESNZ category the ledger computes with;
- ``mode``, ``co2eIntensityTTW`` (the category's TTW factor) and ``co2eIntensityWTW`` (TTW + WTT),
  kg CO2e per t·km, ``transportActivityUnit`` ``tkm``: the factors the leg was computed with;
- ``energyCarriers``: the one fuel, ``relativeShare`` ``1``, its DESNZ 2025 "Fuels" (TTW) and
  "WTT- fuels" (WTT) factors per kWh (Net CV) converted to kg CO2e per MJ (÷ 3.6), with
  ``energyConsumptionUnit`` ``MJ`` naming the unit of the factors (§6.6.6: kg CO2e per energy
  consumption unit); no ``energyConsumption`` (the ledger has none);
- ``temperatureControl`` ``refrigerated`` for the refrigerated HGV categories; no
  ``certifications`` (none is held).

Legs without a TOC: cargo ships and freight trains (the DESNZ category names no fuel, and no cited
source gives the shares of t·km by energy carrier that iLEAP §6.3 asks for; ``docs/pact.md``),
vans by electricity, CNG, LPG or unknown fuel, the DESNZ 2026 tables (their fuel rows are not in
the ledger: the fuel table is read from the 2025 flat file, and editions are not mixed), a
carrier's own intensity, and hub operations. A TCE names a ``tocId`` or a ``hocId``
(iLEAP §6.2.2), so the TCE of a transport leg without a TOC still names its DESNZ category as
its ``tocId``; that TOC is not listed (iLEAP Appendix C TC002 is then not met for its shipment).

The fuel table (``emission_factors/desnz-2025-fuels-ileap-energy-carriers.csv``, built and
checked by ``emission_factors/tools/build_ileap_energy_carriers.py``) is descriptive metadata of
the TOCs: it is in no factor set and changes no footprint number.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ledger.factors.factorset import shipped_factor_dir
from ledger.factors.tables import canonical_bytes
from ledger.reports import pact

__all__ = ["ENERGY_CARRIER_TABLE", "ILEAP_TOC_SCHEMA", "EnergyCarrier", "Toc",
           "category_id", "energy_carriers", "leg_tocs", "toc_footprint", "toc_for_leg",
           "with_toc_ids"]

ILEAP_TOC_SCHEMA = "https://api.ileap.sine.dev/toc.json"

#: The fuel table: one row per fuel, cited row by row (see its builder).
ENERGY_CARRIER_TABLE = "desnz-2025-fuels-ileap-energy-carriers.csv"
#: Freight tables (TTW -> WTT) whose categories get TOCs: the 2025 edition, the flat file the
#: fuel rows come from.
FREIGHT_TABLES = {"defra-2025-freighting-goods-ttw": "defra-2025-wtt-freight"}
_MODES = {"road": "Road", "rail": "Rail", "air": "Air", "sea": "Sea",
          "inland_waterway": "InlandWaterway"}


@dataclass(frozen=True)
class EnergyCarrier:
    """One fuel of the fuel table: its iLEAP type and factors in kg CO2e per MJ (Net CV)."""

    key: str
    carrier: str
    desnz_fuel: str
    freight_categories: tuple[str, ...]
    ttw_id: str
    wtt_id: str
    ttw_kg_per_mj: str
    wtw_kg_per_mj: str

    def to_ileap(self) -> dict[str, str]:
        return {"energyCarrier": self.carrier, "relativeShare": "1",
                "energyConsumptionUnit": "MJ", "emissionFactorWTW": self.wtw_kg_per_mj,
                "emissionFactorTTW": self.ttw_kg_per_mj}


@dataclass(frozen=True)
class Toc:
    """The TOC of one DESNZ freight category (intensities in kg CO2e per t·km)."""

    toc_id: str
    mode: str
    description: str
    co2e_ttw_kg_per_tkm: Decimal
    co2e_wtw_kg_per_tkm: Decimal
    carrier: EnergyCarrier
    refrigerated: bool
    tables: tuple[str, str]  # the freight tables (TTW, WTT) of the factors

    def to_ileap(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tocId": self.toc_id, "description": self.description,
                               "mode": self.mode}
        if self.refrigerated:
            out["temperatureControl"] = "refrigerated"
        out["energyCarriers"] = [self.carrier.to_ileap()]
        out["co2eIntensityWTW"] = pact._plain(self.co2e_wtw_kg_per_tkm)
        out["co2eIntensityTTW"] = pact._plain(self.co2e_ttw_kg_per_tkm)
        out["transportActivityUnit"] = "tkm"
        return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def energy_carriers(directory: Path | None = None) -> dict[str, EnergyCarrier]:
    """Fuel table rows by freight category label (``HGV (all diesel)``, ``Vans/Diesel``)."""
    out = {}
    for row in _rows((directory or shipped_factor_dir()) / ENERGY_CARRIER_TABLE):
        carrier = EnergyCarrier(
            key=row["key"], carrier=row["ileap_energy_carrier"], desnz_fuel=row["desnz_fuel"],
            freight_categories=tuple(row["freight_categories"].split(";")),
            ttw_id=row["ttw_id"], wtt_id=row["wtt_id"], ttw_kg_per_mj=row["ttw_kg_co2e_per_mj"],
            wtw_kg_per_mj=row["wtw_kg_co2e_per_mj"])
        for category in carrier.freight_categories:
            out[category] = carrier
    return out


@lru_cache(maxsize=1)
def _table_version() -> str:
    """``sha256:<first 16 hex>`` of the fuel table's canonical bytes (as factor sources say)."""
    raw = (shipped_factor_dir() / ENERGY_CARRIER_TABLE).read_bytes()
    return "sha256:" + hashlib.sha256(canonical_bytes(raw)).hexdigest()[:16]


@lru_cache(maxsize=8)
def _freight(table: str, directory: Path | None = None) -> dict[str, dict[str, str]]:
    return {row["key"]: row for row in _rows((directory or shipped_factor_dir()) / f"{table}.csv")}


def _split(ref: str) -> tuple[str, str]:
    table, _, key = ref.partition("#")
    return table, key


def toc_for_leg(factor_ttw: str, factor_wtt: str, directory: Path | None = None) -> Toc | None:
    """The TOC of a leg computed with the factor rows ``<table>#<key>`` (TTW, WTT), or None
    when the leg's category does not name one fuel (see the module docstring)."""
    (ttw_table, key), (wtt_table, wtt_key) = _split(factor_ttw), _split(factor_wtt)
    if FREIGHT_TABLES.get(ttw_table) != wtt_table or key != wtt_key:
        return None
    ttw, wtt = _freight(ttw_table, directory).get(key), _freight(wtt_table, directory).get(key)
    if ttw is None or wtt is None or ttw["mode"] not in _MODES:
        return None
    level_2 = ttw["defra_level_2"]
    category = f"Vans/{ttw['defra_column_text']}" if level_2 == "Vans" else level_2
    carrier = energy_carriers(directory).get(category)
    if carrier is None:
        return None
    labels = ", ".join(x for x in (level_2, ttw["defra_level_3"], ttw["defra_level_4"],
                                   ttw["defra_column_text"]) if x)
    ttw_factor = Decimal(ttw["kg_co2e_per_tkm"])
    wtw_factor = ttw_factor + Decimal(wtt["kg_co2e_per_tkm"])
    description = (
        f"DESNZ/Defra 2025 freighting goods: {labels} (flat-file rows {ttw['defra_id']} TTW, "
        f"{wtt['defra_id']} WTT; kg CO2e per tonne.km, WTW = TTW + WTT). Energy carrier: "
        f"{carrier.desnz_fuel}, DESNZ 2025 rows {carrier.ttw_id} (Fuels) and {carrier.wtt_id} "
        "(WTT- fuels), kg CO2e per kWh (Net CV) / 3.6 = per MJ. Secondary data; not certified.")
    return Toc(toc_id=str(category_id(factor_ttw)), mode=_MODES[ttw["mode"]],
               description=description, co2e_ttw_kg_per_tkm=ttw_factor,
               co2e_wtw_kg_per_tkm=wtw_factor, carrier=carrier,
               refrigerated=ttw["refrigerated"] == "yes", tables=(ttw_table, wtt_table))


def leg_tocs(record: Mapping[str, Any], directory: Path | None = None) -> dict[int, Toc]:
    """The TOC of each leg (by leg number) of a canonical record that has one."""
    out = {}
    for leg in _legs(record):
        toc = toc_for_leg(str(leg.get("factor_ttw", "")), str(leg.get("factor_wtt", "")),
                          directory)
        if toc is not None:
            out[int(leg["leg"])] = toc
    return out


def _legs(record: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [leg for leg in (record.get("footprint") or {}).get("legs") or []
            if leg.get("mode") != "hub"]


def category_id(factor_ttw: str) -> str | None:
    """``<edition>:<key>`` of a leg computed with the freight factor row ``<table>#<key>``
    (``defra-2025-freighting-goods-ttw#road.hgv_all.average`` -> ``defra-2025:road.hgv_all.
    average``), or None for another reference (a carrier's own intensity)."""
    table, key = _split(factor_ttw)
    if not key or not table.endswith("-freighting-goods-ttw"):
        return None
    return "-".join(table.split("-")[:2]) + ":" + key


def with_toc_ids(tces: Sequence[pact.Tce], record: Mapping[str, Any]) -> tuple[pact.Tce, ...]:
    """The TCEs with ``toc_id`` naming the DESNZ category their leg was computed with
    (:func:`category_id`, the ``tocId`` of its TOC where it has one). iLEAP §6.2.2: a TCE names
    a ``tocId`` or a ``hocId``, so a leg without a TOC (a cargo ship) still names its category.
    Hub operations, and legs without a freight factor row, are kept as given."""
    ids = {int(leg["leg"]): category_id(str(leg.get("factor_ttw", ""))) for leg in _legs(record)}
    out = []
    for tce in tces:
        number = tce.tce_id.rsplit("#", 1)[-1]
        found = ids.get(int(number)) if tce.hoc_id is None and number.isdecimal() else None
        out.append(tce if found is None else replace(tce, toc_id=found))
    return tuple(out)


def toc_footprint(
    toc: Toc,
    *,
    pf_id: str,
    created: str,
    company_name: str,
    company_id: str,
    reference_period: tuple[str, str],
    gwp_set: str,
    factor_sources: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """The TOC as a PACT v2.3 ProductFootprint, as iLEAP v1.0.0 §7.2.2 maps it:
    ``productIds`` ``...:vendor-assigned:toc:<tocId>``, CPC ``83117``, ``ton kilometer``,
    ``unitaryProductAmount`` and ``productMassPerDeclaredUnit`` ``1`` (§7.2.2's MUST),
    ``pCfExcludingBiogenic`` = ``co2eIntensityWTW``, the TOC as a ``DataModelExtension``. The
    other PACT attributes are those of every footprint of :mod:`ledger.reports.pact`; the
    secondary emission factor sources are the two freight tables (as ``factor_sources`` of the
    record's factor set name them) and the fuel table."""
    sources = [s for s in factor_sources if s[0] in toc.tables]
    wtw, ttw = toc.co2e_wtw_kg_per_tkm, toc.co2e_ttw_kg_per_tkm
    boundary = (
        f"Transport operation category {toc.toc_id}: well-to-wheel emissions per t·km (WTW "
        f"{pact._plain(wtw)} kg = TTW {pact._plain(ttw)} kg + WTT {pact._plain(wtw - ttw)} kg "
        "CO2e); excludes production of the goods")
    pcf = {
        **pact._carbon_footprint(
            declared_unit="ton kilometer",
            unitary_amount=Decimal(1),
            total_kg=wtw,
            mass_per_unit="1",
            reference_period=reference_period,
            gwp_set=gwp_set,
            boundary=boundary,
            factor_sources=[*sources, (ENERGY_CARRIER_TABLE.removesuffix(".csv"),
                                       _table_version())],
        ),
        "crossSectoralStandards": ["ISO14083"],
    }
    return pact.category_footprint(
        kind="TOC", category_id=toc.toc_id, title="Transport operation category", pf_id=pf_id,
        created=created, company_name=company_name, company_id=company_id,
        comment=pact._comment(toc.description, "Values below are per t·km."), pcf=pcf,
        schema=ILEAP_TOC_SCHEMA, data=toc.to_ileap())
