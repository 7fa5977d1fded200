"""Factor sets: a manifest naming exactly the tables a calculation uses, and its identity.

The manifest (``emission_factors/factor-set-2026.json`` by default) lists, for each table kind,
the file and the SHA-256 of its canonical bytes (:func:`ledger.factors.tables.canonical_bytes`).
The factor-set id is ``0x`` + SHA-256 of the UTF-8 text made of one line per table, sorted by
kind::

    <kind> <file name> <sha256 hex of the table's canonical bytes>\\n

so the same table files give the same id on any machine (line endings do not matter), and any
change to a value changes the id. The loader refuses a table whose bytes do not match the
manifest, and a manifest whose recorded id does not match its tables.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ledger.errors import FactorError
from ledger.factors.cbam import CbamScope
from ledger.factors.cbam_defaults import CbamDefaults
from ledger.factors.tables import (
    FactorTable,
    FreightFactors,
    MethodParameters,
    ScaledLookup,
    canonical_bytes,
    parse_table,
)

__all__ = [
    "DECLARATION_KINDS",
    "DEFAULT_MANIFEST",
    "REQUIRED_KINDS",
    "FactorSet",
    "build_manifest",
    "factor_set_id",
    "load_factor_set",
    "load_shipped_factor_set",
    "shipped_factor_dir",
    "shipped_factor_uri",
    "shipped_manifests",
]

DEFAULT_MANIFEST = "factor-set-2026.json"

#: Table kinds every factor set names, once each.
REQUIRED_KINDS = (
    "freight_ttw", "freight_wtt", "cbam_scope", "grid_electricity", "product_defaults",
    "method_parameters",
)

#: The CBAM default values: an Annex I table with its mark-ups (and optionally the list of
#: the annex's countries), or the first China-only table with published mark-up columns.
CBAM_DEFAULT_KINDS = (("cbam_annex_i", "cbam_markups"), ("cbam_defaults",))
CBAM_OPTIONAL_KINDS = {"cbam_annex_i": ("cbam_countries",), "cbam_defaults": ()}
#: The tables of the importer's annual declaration (:mod:`ledger.declaration`): CBAM benchmarks,
#: CBAM factors per year and certificate prices. A factor set may name them; its other tables
#: are then those of the consignments it declares.
DECLARATION_KINDS = ("cbam_benchmarks", "cbam_factors", "cbam_prices")


def shipped_factor_dir() -> Path:
    """The directory of the shipped tables (installed package data, or the source tree)."""
    try:
        found = resources.files("emission_factors")
        path = Path(str(found))
        if (path / DEFAULT_MANIFEST).is_file():
            return path
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "emission_factors"


def factor_set_id(entries: Mapping[str, tuple[str, str]]) -> str:
    """The id of tables given as ``{kind: (file name, sha256 hex)}``."""
    text = "".join(f"{kind} {entries[kind][0]} {entries[kind][1]}\n" for kind in sorted(entries))
    return "0x" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class FactorSet:
    """The validated tables of one manifest, with lookups and the set's identity."""

    id: str
    uri: str
    name: str
    manifest_path: Path
    tables: Mapping[str, FactorTable]
    params: MethodParameters
    freight: FreightFactors
    grid: ScaledLookup
    product_defaults: ScaledLookup
    cbam_scope: CbamScope
    cbam_defaults: CbamDefaults

    def table(self, kind: str) -> FactorTable:
        return self.tables[kind]

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary: id, uri and each table's file and digest."""
        return {
            "id": self.id,
            "uri": self.uri,
            "name": self.name,
            "tables": {kind: {"name": t.name, "sha256": t.sha256}
                       for kind, t in sorted(self.tables.items())},
        }


def shipped_manifests() -> dict[str, Path]:
    """Factor-set id -> manifest of every factor set shipped with this installation.

    The ids come from the digests each manifest lists (no table is read or parsed here);
    :func:`load_factor_set` checks the tables against them when a set is loaded.
    """
    out: dict[str, Path] = {}
    for path in sorted(shipped_factor_dir().glob("factor-set-*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not loadable: load_factor_set names the problem when it is asked for
        if not isinstance(manifest, dict) or not isinstance(manifest.get("tables"), list):
            continue  # a schedule, not a factor set
        entries = {str(e.get("kind")): (str(e.get("file")), str(e.get("sha256")))
                   for e in manifest["tables"] if isinstance(e, dict)}
        out[factor_set_id(entries)] = path
    return out


def shipped_factor_uri(set_id: str) -> str:
    """The URI of the shipped factor set ``set_id`` (as :func:`load_factor_set` gives it), or
    "" when this installation ships no set of that id."""
    path = shipped_manifests().get(str(set_id).lower())
    return "" if path is None else _shipped_uri(path)


def _shipped_uri(path: Path) -> str:
    return f"carbon-ledger:emission_factors/{path.name}"


def load_shipped_factor_set(set_id: str) -> FactorSet:
    """The shipped factor set whose id is ``set_id``; FactorError naming the id (and the ids
    this installation ships) when there is none."""
    known = shipped_manifests()
    path = known.get(str(set_id).lower())
    if path is None:
        raise FactorError(
            f"factor set {set_id} is not shipped with this installation (shipped: "
            + ", ".join(f"{k} ({p.name})" for k, p in sorted(known.items()))
            + "); install the version that ships its tables")
    return load_factor_set(path)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FactorError(f"factor-set manifest {path} not found") from exc
    except (OSError, ValueError) as exc:
        raise FactorError(f"factor-set manifest {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise FactorError(f"factor-set manifest {path}: expected an object with a 'tables' list")
    return data


def load_factor_set(manifest_path: Path | None = None) -> FactorSet:
    """Load and validate a factor set; the shipped ``factor-set-2026.json`` by default."""
    shipped = shipped_factor_dir()
    path = Path(manifest_path) if manifest_path is not None else shipped / DEFAULT_MANIFEST
    manifest = _read_manifest(path)
    tables: dict[str, FactorTable] = {}
    entries: dict[str, tuple[str, str]] = {}
    for entry in manifest["tables"]:
        if not isinstance(entry, dict) or not {"kind", "file", "sha256"} <= set(entry):
            raise FactorError(f"{path}: each table entry needs kind, file and sha256")
        kind, file, expected = str(entry["kind"]), str(entry["file"]), str(entry["sha256"])
        if kind in tables:
            raise FactorError(f"{path}: table kind {kind!r} is named twice")
        if "/" in file or "\\" in file or file.startswith("."):
            raise FactorError(f"{path}: table file {file!r} must be a plain name beside "
                              "the manifest")
        try:
            raw = (path.parent / file).read_bytes()
        except OSError as exc:
            raise FactorError(f"{path}: table {file} cannot be read: {exc}") from exc
        actual = hashlib.sha256(canonical_bytes(raw)).hexdigest()
        if actual != expected:
            raise FactorError(f"table {file} does not match the manifest {path.name}: its "
                              f"content hashes to {actual}, the manifest expects {expected}")
        name = file.rsplit(".", 1)[0]
        tables[kind] = parse_table(name, kind, raw)
        entries[kind] = (file, actual)
    missing = [k for k in REQUIRED_KINDS if k not in tables]
    if missing:
        raise FactorError(f"{path}: the factor set names no table of kind "
                          + ", ".join(missing))
    cbam_kinds = [kinds for kinds in CBAM_DEFAULT_KINDS if kinds[0] in tables]
    if len(cbam_kinds) != 1 or any(k not in tables for k in cbam_kinds[0]):
        raise FactorError(f"{path}: the factor set must name CBAM default values either as "
                          "tables of kind cbam_annex_i and cbam_markups (optionally "
                          "cbam_countries) or as one table of kind cbam_defaults")
    cbam_main = cbam_kinds[0][0]
    allowed = (set(REQUIRED_KINDS) | set(cbam_kinds[0]) | set(CBAM_OPTIONAL_KINDS[cbam_main])
               | set(DECLARATION_KINDS))
    extra = sorted(set(tables) - allowed)
    if extra:
        raise FactorError(f"{path}: table kind {', '.join(extra)} does not belong with "
                          f"{cbam_main} in one factor set")
    set_id = factor_set_id(entries)
    recorded = manifest.get("id")
    if recorded is not None and recorded != set_id:
        raise FactorError(f"{path}: recorded id {recorded} does not match its tables ({set_id})")
    if path.resolve().parent == shipped.resolve():
        uri = _shipped_uri(path)
    else:
        uri = path.resolve().as_uri()
    params = MethodParameters(tables["method_parameters"])
    return FactorSet(
        id=set_id,
        uri=uri,
        name=str(manifest.get("name", path.stem)),
        manifest_path=path,
        tables=tables,
        params=params,
        freight=FreightFactors(tables["freight_ttw"], tables["freight_wtt"], params),
        grid=ScaledLookup(tables["grid_electricity"], "kg_co2_per_kwh"),
        product_defaults=ScaledLookup(tables["product_defaults"], "t_per_t"),
        cbam_scope=CbamScope(tables["cbam_scope"]),
        cbam_defaults=CbamDefaults(tables[cbam_main], tables.get("cbam_markups"),
                                   tables.get("cbam_countries")),
    )


def build_manifest(directory: Path, name: str, files: Mapping[str, str],
                   description: str = "") -> dict[str, Any]:
    """A manifest for ``{kind: file name}`` in ``directory``, with digests and the id."""
    entries: dict[str, tuple[str, str]] = {}
    rows = []
    for kind in sorted(files):
        digest = hashlib.sha256(canonical_bytes((directory / files[kind]).read_bytes())).hexdigest()
        entries[kind] = (files[kind], digest)
        rows.append({"kind": kind, "file": files[kind], "sha256": digest})
    return {"name": name, "description": description, "id": factor_set_id(entries),
            "tables": rows}
