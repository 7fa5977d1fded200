"""Shipment submissions: parse a JSON or CSV body, compute footprints, store idempotently.

A submission is all or nothing: every problem of the body is reported together (422, with row
and field), and nothing is stored unless every shipment is valid. By shipment id, a submission
is idempotent: the same content again is ``unchanged``; new content for a shipment not yet
anchored ``replaced`` it; new content for an anchored shipment is refused (409), since an
anchored record can only be superseded on chain, never edited.
"""

from __future__ import annotations

import gc
import hashlib
import json
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import numpy as np
import orjson

from api.errors import ApiError
from api.ids import confusable_warnings, id_problem, normalise_submitted_ids, shown
from api.limits import refuse_surrogates
from api.store import NewShipment, ServiceStore
from ledger.errors import InputError, InputProblem, WriteRefused
from ledger.factors.factorset import FactorSet
from ledger.inputs.shipments import MODES
from ledger.store.rows import Scope
from ledger.store.store import LedgerStore

__all__ = [
    "SubmitResult",
    "compute_totals",
    "parse_csv",
    "parse_json",
    "paused_collector",
    "shipment_json",
    "submit_shipments",
]


@dataclass(frozen=True)
class SubmitResult:
    """What a submission did, by shipment id."""

    created: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    totals: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self, *, listed: int = 1000) -> dict[str, Any]:
        outcome = dict.fromkeys(self.unchanged, "unchanged")
        outcome.update(dict.fromkeys(self.replaced, "replaced"))
        outcome.update(dict.fromkeys(self.created, "created"))
        ids = self.created + self.replaced + self.unchanged
        return {
            "accepted": len(ids), "created": len(self.created), "replaced": len(self.replaced),
            "unchanged": len(self.unchanged),
            "shipments": [{"shipment_id": sid, "outcome": outcome[sid], **self.totals[sid]}
                          for sid in ids[:listed]],
            "listed": min(len(ids), listed),
            "warnings": self.warnings[:listed],
        }


class _CollectorPause:
    """Python's cycle collector off while a submission is parsed, computed and stored.

    Such a step makes some hundred thousand short-lived objects and no lasting cycles, and each
    full collection it sets off walks every object of the process (the factor set, the routing
    data): with the collector on, a 1,000-shipment submission takes about a quarter longer, and
    its slowest cases twice as long. Concurrent submissions share one pause; the last one to
    end turns the collector back on, if it was on when the first began.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pauses = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._pauses == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._pauses += 1
        try:
            yield
        finally:
            with self._lock:
                self._pauses -= 1
                if self._pauses == 0 and self._was_enabled:
                    gc.enable()


#: One per process, as the collector is.
paused_collector = _CollectorPause()


P = ParamSpec("P")
R = TypeVar("R")


def _collector_paused(fn: Callable[P, R]) -> Callable[P, R]:
    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with paused_collector():
            return fn(*args, **kwargs)

    return run


@_collector_paused
def parse_json(body: bytes, max_shipments: int) -> Any:
    """The frame of a JSON body (``{"shipments": [...]}`` or a list)."""
    from ledger.inputs.frame import ShipmentFrame
    from ledger.inputs.shipments import shipments_from_json

    try:
        data = json.loads(body.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise ApiError(400, "BadRequest", f"the body is not UTF-8 text: {exc.reason} at byte "
                                          f"{exc.start}") from None
    except ValueError as exc:
        raise ApiError(400, "BadRequest", f"the body is not valid JSON: {exc}") from None
    refuse_surrogates(data, body)
    items = data.get("shipments") if isinstance(data, dict) else data
    if isinstance(items, list) and len(items) > max_shipments:
        raise ApiError(413, "PayloadTooLarge", f"{len(items)} shipments in one submission; the "
                                               f"limit is {max_shipments}: split it")
    normalise_submitted_ids(data)  # NFC, refused characters named with their row
    return ShipmentFrame.from_shipments(shipments_from_json(data))


@_collector_paused
def parse_csv(body: bytes, max_shipments: int) -> Any:
    """The frame of a CSV body (one row per leg; see docs/shipments-format.md)."""
    from ledger.inputs.csvreader import read_csv_frame

    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([InputProblem(
            f"the CSV is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
            row=body[:exc.start].count(b"\n") + 1)]) from None
    if not unicodedata.is_normalized("NFC", text):  # shipment ids are taken in NFC form
        body = unicodedata.normalize("NFC", text).encode()
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(body)
        handle.flush()
        frame = read_csv_frame(handle.name)
    if len(frame) > max_shipments:
        raise ApiError(413, "PayloadTooLarge", f"{len(frame)} shipments in one submission; the "
                                               f"limit is {max_shipments}: split it")
    return frame


def _csv_fields(exc: InputError) -> InputError:
    from ledger.inputs.frame import CSV_COLUMN_OF

    return InputError([InputProblem(p.message, p.shipment_id, p.row,
                                    CSV_COLUMN_OF.get(p.field or "", p.field))
                       for p in exc.problems])


@_collector_paused
def compute_totals(frame: Any, factor_set: FactorSet, router: Any, *, from_csv: bool
                   ) -> list[NewShipment]:
    """Footprint totals of every shipment of ``frame`` on the vectorised path."""
    from ledger.footprint.batch import compute_batch
    from ledger.footprint.exact import format_scaled

    try:
        batch = compute_batch(frame, factor_set, router=router)
    except InputError as exc:
        raise (_csv_fields(exc) if from_csv else exc) from None
    shipments = frame.to_shipments()
    refused = [InputProblem(problem, shown(sh.shipment_id), sh.source_row, "shipment_id")
               for sh in shipments if (problem := id_problem(sh.shipment_id)) is not None]
    if refused:
        raise InputError(refused)
    s = batch.shipments
    n = len(batch)
    by_mode = _wtw_by_mode(batch, n)
    out = []
    ttw, wtw, total = (s["ttw_g"].tolist(), s["wtw_g"].tolist(), s["total_g"].tolist())
    hi, lo = s["act_hi"].tolist(), s["act_lo"].tolist()
    for i, shipment in enumerate(shipments):
        raw = shipment_json(shipment.to_dict())
        out.append(NewShipment(
            shipment_id=shipment.shipment_id,
            content_hash=hashlib.sha256(raw).hexdigest(),
            shipment_json=raw.decode(), factor_set_id=batch.factor_set_id,
            activity_tkm=format_scaled(int(hi[i]) * 10**9 + int(lo[i]), 9),
            co2e_ttw_g=int(ttw[i]), co2e_wtw_g=int(wtw[i]), total_co2e_g=int(total[i]),
            wtw_by_mode_g={m: int(by_mode[i, j]) for j, m in enumerate(MODES) if by_mode[i, j]},
        ))
    return out


def shipment_json(data: Any) -> bytes:
    """A shipment's stored JSON, whose SHA-256 is its content hash: keys sorted, no spaces,
    UTF-8 (the text of ``json.dumps(data, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``)."""
    try:
        return orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson does not take (an integer over 64 bits): the same text
        return json.dumps(data, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()


def _wtw_by_mode(batch: Any, n: int) -> Any:
    """WTW grams per shipment and transport mode (columns in :data:`MODES` order)."""
    legs = batch.legs
    modes = getattr(batch, "leg_modes", None)
    if modes is None:
        modes = legs["mode"]
    ship = np.asarray(legs["ship"], dtype=np.int64)
    if "wtw_g" in legs:
        wtw = np.asarray(legs["wtw_g"], dtype=np.int64)
    else:  # WTW = TTW + WTT, leg by leg
        wtw = np.asarray(legs["ttw_g"], dtype=np.int64) + np.asarray(legs["wtt_g"],
                                                                     dtype=np.int64)
    index = {m: i for i, m in enumerate(MODES)}
    column = np.fromiter((index[str(m)] for m in np.asarray(modes, dtype=object)),
                         dtype=np.int64, count=len(ship))
    out = np.zeros((n, len(MODES)), dtype=np.int64)
    np.add.at(out, (ship, column), wtw)
    return out


#: Attempts of a submission that concurrent submissions of the same ids keep interrupting.
_ATTEMPTS = 5


@_collector_paused
def submit_shipments(store: ServiceStore, ledger_store: LedgerStore, scope: Scope | None,
                     org_id: int, shipments: Sequence[NewShipment]) -> SubmitResult:
    """Stores the shipments in one transaction (see the module docstring).

    Concurrent submissions of the same ids: the one that commits first stores them; another
    with the same content then finds them stored (``unchanged``, 200), one with other content
    is refused whole (409 naming the ids, nothing stored). Never a raw database error."""
    for _ in range(_ATTEMPTS - 1):
        try:
            return _submit_once(store, ledger_store, scope, org_id, shipments)
        except WriteRefused:  # a concurrent submission stored some of these ids first
            _refuse_concurrent_changes(store, org_id, shipments)
    try:
        return _submit_once(store, ledger_store, scope, org_id, shipments)
    except WriteRefused:
        _refuse_concurrent_changes(store, org_id, shipments)
        raise ApiError(409, "Conflict", "concurrent submissions of the same shipment ids kept "
                                        "interrupting this one; nothing of it was stored: "
                                        "submit it again") from None


def _refuse_concurrent_changes(store: ServiceStore, org_id: int,
                               shipments: Sequence[NewShipment]) -> None:
    """409 when a concurrent submission stored any of these ids with other content."""
    now = store.content_hashes(org_id, [s.shipment_id for s in shipments])
    clash = sorted(s.shipment_id for s in shipments
                   if s.shipment_id in now and now[s.shipment_id] != s.content_hash)
    if clash:
        listed = [shown(sid) for sid in clash[:20]]
        raise ApiError(409, "Conflict",
                       f"{len(clash)} shipment(s) were stored at the same time by another "
                       f"submission with other content: {', '.join(listed)}; nothing of this "
                       "submission was stored: submit it again to replace them (while they "
                       "are not anchored)", extra={"shipment_ids": listed})


def _submit_once(store: ServiceStore, ledger_store: LedgerStore, scope: Scope | None,
                 org_id: int, shipments: Sequence[NewShipment]) -> SubmitResult:
    ids = [s.shipment_id for s in shipments]
    stored = store.content_hashes(org_id, ids)
    changed = [s for s in shipments if s.shipment_id in stored
               and stored[s.shipment_id] != s.content_hash]
    if changed and scope is not None:
        anchored = ledger_store.find_records(scope, [s.shipment_id for s in changed])
        if anchored:
            listed = sorted(anchored)[:20]
            raise ApiError(409, "Conflict",
                           f"{len(anchored)} shipment(s) are anchored already and cannot be "
                           f"changed: {', '.join(listed)}; submit a new shipment id instead",
                           extra={"shipment_ids": listed})
    new = [s for s in shipments if s.shipment_id not in stored]
    store.put_shipments(org_id, new, changed)
    warnings = confusable_warnings(  # look-alike ids: stored, with a warning
        [s.shipment_id for s in new], lambda plain: set(store.content_hashes(org_id, plain)))
    changed_ids = {s.shipment_id for s in changed}
    return SubmitResult(
        created=[s.shipment_id for s in new],
        replaced=[s.shipment_id for s in shipments if s.shipment_id in changed_ids],
        unchanged=[s.shipment_id for s in shipments
                   if s.shipment_id in stored and s.shipment_id not in changed_ids],
        totals={s.shipment_id: {"co2e_wtw_g": s.co2e_wtw_g, "co2e_ttw_g": s.co2e_ttw_g,
                                "total_co2e_g": s.total_co2e_g} for s in shipments},
        warnings=warnings,
    )
