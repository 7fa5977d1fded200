"""Reading a shipment file: one dispatcher over the two file forms.

``.csv`` (one row per leg) goes through the vectorised reader
(:func:`ledger.inputs.csvreader.read_csv_frame`), ``.json`` through
:func:`ledger.inputs.shipments.shipments_from_json`; both accept and reject the same content.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from ledger.errors import InputError, InputProblem
from ledger.inputs.csvreader import read_csv_frame
from ledger.inputs.shipments import Shipment, shipments_from_json

__all__ = ["read_shipments"]


def read_shipments(path: Path | str, *,
                   collect: list[InputProblem] | None = None) -> list[Shipment]:
    """Shipments from a ``.csv`` (one row per leg) or ``.json`` file; InputError lists all
    problems of the file (with ``collect``: appended there, valid shipments returned)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"), parse_float=Decimal)
        except OSError as exc:
            raise InputError(f"{path}: cannot be read: {exc}") from exc
        except ValueError as exc:
            raise InputError(f"{path}: not valid JSON: {exc}") from exc
        return shipments_from_json(data, collect=collect)
    if suffix == ".csv":
        return read_csv_frame(path, collect=collect).to_shipments()
    raise InputError(f"{path}: unknown file type {suffix!r}; expected .csv or .json")
