"""Factor-set schedules: which factor set applies to a shipment, chosen by its dispatch date.

A schedule (``emission_factors/factor-set-schedule.json`` by default, or any file of the same
form) lists factor-set manifests beside it with the dispatch dates they apply to::

    {"name": "...", "basis": "dispatch_date",
     "entries": [{"manifest": "factor-set-….json", "id": "0x…",
                  "valid_from": "2025-01-01", "valid_to": "2026-12-31"}, ...]}

Dates are inclusive ISO dates; ``valid_to`` null leaves the entry open. The loader refuses
overlapping entries, an entry whose manifest's id differs from the one recorded, and a basis
other than ``dispatch_date``. A date that no entry covers is an error that names it: there is
no nearest or latest set to fall back on. The schedule's id is ``0x`` + SHA-256 of its
canonical bytes (as for a table), so a result can name the exact rule that chose its set.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from ledger.errors import FactorError
from ledger.factors.factorset import FactorSet, load_factor_set, shipped_factor_dir
from ledger.factors.tables import canonical_bytes

__all__ = [
    "DEFAULT_SCHEDULE",
    "FactorSetSchedule",
    "ScheduleEntry",
    "load_schedule",
    "shipped_factor_sets",
]

DEFAULT_SCHEDULE = "factor-set-schedule.json"


@dataclass(frozen=True)
class ScheduleEntry:
    """One factor set and the dispatch dates it applies to (inclusive; None: open)."""

    factor_set: FactorSet
    manifest: str
    valid_from: date
    valid_to: date | None

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def describe(self) -> dict[str, Any]:
        return {"id": self.factor_set.id, "name": self.factor_set.name,
                "manifest": self.manifest, "valid_from": self.valid_from.isoformat(),
                "valid_to": None if self.valid_to is None else self.valid_to.isoformat()}


@dataclass(frozen=True)
class FactorSetSchedule:
    """A validated schedule: its identity and its entries in date order."""

    id: str
    name: str
    basis: str
    path: Path
    entries: tuple[ScheduleEntry, ...]

    def choose(self, day: date) -> ScheduleEntry | str:
        """The entry covering ``day``, or a message saying that none does."""
        for entry in self.entries:
            if entry.covers(day):
                return entry
        spans = ", ".join(f"{e.valid_from.isoformat()} to "
                          f"{'open' if e.valid_to is None else e.valid_to.isoformat()}"
                          for e in self.entries)
        return (f"no factor set of schedule {self.name} applies to dispatch date "
                f"{day.isoformat()} (it covers {spans}); pin a factor set explicitly or extend "
                "the schedule")

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "basis": self.basis,
                "entries": [e.describe() for e in self.entries]}


def _date(value: Any, what: str, path: Path) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise FactorError(f"{path}: {what} {value!r} is not an ISO date (YYYY-MM-DD)") from exc


def load_schedule(path: Path | None = None) -> FactorSetSchedule:
    """Load and check a schedule (the shipped one by default) and the factor sets it names."""
    path = Path(path) if path is not None else shipped_factor_dir() / DEFAULT_SCHEDULE
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise FactorError(f"factor-set schedule {path} not found") from exc
    except (OSError, ValueError) as exc:
        raise FactorError(f"factor-set schedule {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list) \
            or not data["entries"]:
        raise FactorError(f"{path}: expected an object with a non-empty 'entries' list")
    if data.get("basis") != "dispatch_date":
        raise FactorError(f"{path}: basis {data.get('basis')!r} is not supported; expected "
                          "'dispatch_date'")
    entries = []
    for item in data["entries"]:
        if not isinstance(item, dict) or not {"manifest", "id", "valid_from"} <= set(item):
            raise FactorError(f"{path}: each entry needs manifest, id and valid_from")
        manifest = str(item["manifest"])
        if "/" in manifest or "\\" in manifest or manifest.startswith("."):
            raise FactorError(f"{path}: manifest {manifest!r} must be a plain name beside the "
                              "schedule")
        factor_set = load_factor_set(path.parent / manifest)
        if factor_set.id != str(item["id"]).lower():
            raise FactorError(f"{path}: entry {manifest} records id {item['id']}, its tables "
                              f"give {factor_set.id}")
        start = _date(item["valid_from"], "valid_from", path)
        end = None if item.get("valid_to") is None else _date(item["valid_to"], "valid_to",
                                                               path)
        if end is not None and end < start:
            raise FactorError(f"{path}: entry {manifest} ends ({end}) before it starts "
                              f"({start})")
        entries.append(ScheduleEntry(factor_set, manifest, start, end))
    entries.sort(key=lambda e: e.valid_from)
    for before, after in pairwise(entries):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            raise FactorError(f"{path}: entries {before.manifest} and {after.manifest} overlap "
                              f"(from {after.valid_from})")
    return FactorSetSchedule(
        id="0x" + hashlib.sha256(canonical_bytes(raw)).hexdigest(),
        name=str(data.get("name", path.stem)), basis="dispatch_date", path=path,
        entries=tuple(entries))


def shipped_factor_sets(schedule: FactorSetSchedule | None = None) -> list[dict[str, Any]]:
    """Every factor-set manifest shipped with the package: id, name, file, description and
    the dispatch dates the schedule (the shipped one by default) applies it to."""
    from ledger.factors.factorset import DEFAULT_MANIFEST

    directory = shipped_factor_dir()
    schedule = schedule if schedule is not None else load_schedule()
    scheduled = {e.factor_set.id: e for e in schedule.entries}
    out = []
    for path in sorted(directory.glob("factor-set-*.json")):
        if path.name == DEFAULT_SCHEDULE:
            continue
        factor_set = load_factor_set(path)
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entry = scheduled.get(factor_set.id)
        out.append({
            "id": factor_set.id, "name": factor_set.name, "manifest": path.name,
            "description": str(manifest.get("description", "")),
            "default": path.name == DEFAULT_MANIFEST,
            "valid_from": None if entry is None else entry.valid_from.isoformat(),
            "valid_to": None if entry is None else (
                None if entry.valid_to is None else entry.valid_to.isoformat()),
            "scheduled": entry is not None,
        })
    return out
