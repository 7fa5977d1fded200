"""Footprints whose factor set is chosen per shipment by its dispatch date.

:func:`compute_by_dispatch_date` looks up each shipment's dispatch date (the frame's
``dispatch_day`` column, filled by the readers) in a
:class:`~ledger.factors.schedule.FactorSetSchedule` (:func:`choose_entries`: a table of the
entry of each day of the schedule, indexed by all dates at once;
:meth:`~ledger.factors.schedule.FactorSetSchedule.choose` of each date is its oracle) and
computes every shipment under its set in one pass of the batch path
(:func:`ledger.footprint.batch.compute_batch_by_set`: factors resolved per set and category,
no frame split). :func:`subframe` and :func:`~ledger.footprint.batch.compute_batch` of each
set's shipments give the same results apart (the test oracle). A
shipment without a dispatch date, or with one that no entry covers, is an input error naming
the field; nothing falls back to another set. Every footprint carries the id of its set (as
every record does, and every anchored batch on chain); :meth:`DatedBatch.selections` states
the rule that chose it (schedule id, dispatch date, validity of the set), and
:meth:`DatedBatch.groups_by_factor_set` gives the shipments of each set, for anchoring them
set by set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from ledger.errors import InputError, InputProblem
from ledger.factors.distances import Router
from ledger.factors.schedule import FactorSetSchedule, ScheduleEntry
from ledger.footprint.batch import compute_batch_by_set
from ledger.footprint.batch_result import BatchFootprint
from ledger.footprint.models import ShipmentFootprint
from ledger.inputs.frame import Int32Array, ShipmentFrame
from ledger.inputs.shipments import Shipment

__all__ = ["DatedBatch", "choose_entries", "compute_by_dispatch_date", "subframe"]

IntpArray = npt.NDArray[np.intp]


def subframe(frame: ShipmentFrame, index: IntpArray) -> ShipmentFrame:
    """The shipments ``index`` (ascending positions) of ``frame``, as a frame of their own."""
    if len(index) == len(frame):
        return frame
    keep = np.zeros(len(frame), dtype=bool)
    keep[index] = True
    ship = frame.legs["ship"].to_numpy()
    rows = np.flatnonzero(keep[ship])
    columns: dict[str, Any] = {}
    for name in frame.legs.columns:
        column = frame.legs[name]
        columns[name] = column.array.take(rows) if isinstance(column.dtype, pd.CategoricalDtype) \
            else column.to_numpy()[rows]
    new = np.cumsum(keep) - 1
    columns["ship"] = new[ship[rows]]
    legs = pd.DataFrame(columns, copy=False)
    count = len(index)
    positions = index.tolist()

    def pick(values: list[Any]) -> list[Any]:
        if values.count(None) == len(values):
            return [None] * count
        return [values[i] for i in positions]

    products = pick(frame.products)
    return ShipmentFrame(
        ids=frame.ids[index], rows=frame.rows[index], exporters=pick(frame.exporters),
        products=products, legs=legs,
        # consignments matter to the batch path only through the goods (CBAM import year)
        consignments=pick(frame.consignments)
        if frame.consignments and products.count(None) != count else [],
        dispatch_day=None if frame.dispatch_day is None else frame.dispatch_day[index],
        carriers={(int(new[s]), order): found for (s, order), found in frame.carriers.items()
                  if keep[s]})


@dataclass
class DatedBatch:
    """One computation: the schedule entries used, each shipment's entry and the batch result
    (every shipment computed under its entry's set, in one pass)."""

    schedule: FactorSetSchedule
    entries: list[ScheduleEntry]
    choice: IntpArray
    batch: BatchFootprint
    dispatch: Int32Array

    def __len__(self) -> int:
        return len(self.choice)

    def footprints(self) -> list[ShipmentFootprint]:
        """Every shipment's footprint, in input order."""
        return self.batch.footprints()

    def selections(self) -> list[dict[str, Any]]:
        """How each shipment's factor set was chosen (rule, schedule, dispatch date, set and
        its validity), in input order."""
        described = [entry.describe() for entry in self.entries]
        return [{"rule": self.schedule.basis, "schedule_id": self.schedule.id,
                 "schedule": self.schedule.name,
                 "dispatch_date": date.fromordinal(day).isoformat(), **described[k]}
                for k, day in zip(self.choice.tolist(), self.dispatch.tolist(), strict=True)]

    def groups_by_factor_set(self) -> list[tuple[str, list[int]]]:
        """(factor-set id, input positions) of each set used, in schedule order."""
        return [(entry.factor_set.id, np.flatnonzero(self.choice == k).tolist())
                for k, entry in enumerate(self.entries)]

    def leg_distances(self, frame: ShipmentFrame) -> npt.NDArray[np.int64]:
        """The distance in metres of every leg of ``frame`` (the frame computed), in its
        order."""
        return np.asarray(self.batch.legs["distance_m"], dtype=np.int64)

    def warnings(self) -> list[tuple[str, str]]:
        return self.batch.warnings()

    def shipment_columns(self) -> dict[str, Any]:
        """One row per shipment in input order."""
        return self.batch.shipment_columns()

    def leg_columns(self) -> dict[str, Any]:
        """One row per leg, shipments in input order."""
        return self.batch.leg_columns()


def choose_entries(schedule: FactorSetSchedule, days: Int32Array) -> IntpArray:
    """The index of the schedule entry covering each day (proleptic ordinals; -1: no entry
    covers it, or NONE: no date), looked up at once in a table of the entry of each day from
    the first entry's start to its last end (the last date given when it is open)."""
    entries = schedule.entries
    first = entries[0].valid_from.toordinal()
    end = entries[-1].valid_to
    last = end.toordinal() if end is not None else max(first, int(days.max()) if len(days) else 0)
    # position 0 and the last: before and after the schedule (-1); day d at 1 + d - first
    table = np.full(last - first + 3, -1, dtype=np.intp)
    for k, entry in enumerate(entries):  # an open entry is the last one (no overlaps)
        until = last if entry.valid_to is None else entry.valid_to.toordinal()
        table[entry.valid_from.toordinal() - first + 1:until - first + 2] = k
    position = days - np.int32(first - 1)
    np.clip(position, 0, len(table) - 1, out=position)
    choice: IntpArray = table[position]
    return choice


def compute_by_dispatch_date(shipments: Sequence[Shipment] | ShipmentFrame,
                             schedule: FactorSetSchedule, *,
                             router: Router | None = None) -> DatedBatch:
    """Footprints with each shipment's factor set chosen by its dispatch date; InputError
    lists every shipment whose date is missing or not covered, and every problem of the
    computations."""
    frame = shipments if isinstance(shipments, ShipmentFrame) else \
        ShipmentFrame.from_shipments(list(shipments))
    router = router or Router()
    days = frame.dispatch_days()
    choice = choose_entries(schedule, days)
    problems: list[InputProblem] = []
    for i in np.flatnonzero(choice < 0).tolist():
        day = None if days[i] < 0 else date.fromordinal(int(days[i]))
        if day is None:
            message = ("consignment.dispatch_date is required to choose the factor set by "
                       "dispatch date (or pin one factor set)")
        else:
            found = schedule.choose(day)
            message = found if isinstance(found, str) else "internal: date not placed"
        problems.append(InputProblem(message, str(frame.ids[i]), _row(frame, i),
                                     "consignment.dispatch_date"))
    if problems:
        raise InputError(problems)
    used = np.flatnonzero(np.bincount(choice, minlength=len(schedule.entries)))
    entries = [schedule.entries[k] for k in used.tolist()]
    if len(used) < len(schedule.entries):  # number the sets used only
        remap = np.zeros(len(schedule.entries), dtype=np.intp)
        remap[used] = np.arange(len(used))
        choice = remap[choice]
    batch = compute_batch_by_set(frame, [e.factor_set for e in entries], choice, router=router)
    return DatedBatch(schedule, entries, choice, batch, days)


def _row(frame: ShipmentFrame, i: int) -> int | None:
    row = int(frame.rows[i])
    return None if row < 0 else row
