"""Many records at once: entries built in chunks, on forked helper processes where that pays.

Building a record costs about 16-19 µs of one CPU (2 kB records); 100,000 of them are worth
spreading. :func:`iter_shaped_chunks` hands out chunks of consecutive (shipment, footprint)
pairs' entries (:class:`EntryChunk`: shipment ids, on-chain keys, record hashes, leaf hashes,
grams and the canonical records, packed) as soon as each is built, by this process or by forked
helpers that each take the next chunk nobody took yet and pass it back through a spool file of
their own. A caller's shape function runs where a chunk is built (the root path packs its
records into a record block there). :func:`build_entries` gives the entries of
:func:`ledger.records.record.build_entry`, in order. Whoever built a chunk, the entries are the
same, and a bad pair raises the ``InputError`` one process would raise. See ``docs/records.md``.
"""

from __future__ import annotations

import array
import contextlib
import gc
import multiprocessing
import multiprocessing.connection
import os
import pickle
import tempfile
import threading
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

from ledger.errors import InputError
from ledger.records.canonical import (
    canonical_json_many,
    chain_shipment_id_function,
    normalise_address,
)
from ledger.records.keccak import keccak_many
from ledger.records.merkle import Leaf
from ledger.records.record import RECORD_SCHEMA, RecordEntry, entry_parts, factor_set_id_text

__all__ = [
    "PARALLEL_MIN_PAIRS",
    "EntryChunk",
    "build_entries",
    "iter_entry_chunks",
    "iter_shaped_chunks",
    "paused_gc",
]

#: Fewest (shipment, footprint) pairs :func:`build_entries` spreads over processes.
PARALLEL_MIN_PAIRS = 20_000
_CHUNK_PAIRS = 2_000

T = TypeVar("T")


def build_entries(
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    exporter: str,
    factor_set_id: str,
    workers: int | None = None,
) -> list[RecordEntry]:
    """:func:`build_entry` of every (shipment, footprint) pair, in order.

    From :data:`PARALLEL_MIN_PAIRS` pairs on, the work is shared by this process and
    ``workers - 1`` forked ones (default: as many as the CPUs this process may use; ``1`` keeps
    it all here); see :func:`iter_entry_chunks`. The result is the same either way, entry for
    entry, and so is the ``InputError`` of a bad pair.
    """
    count = _usable_cpus() if workers is None else workers
    chunks = sorted(iter_entry_chunks(pairs, exporter=exporter, factor_set_id=factor_set_id,
                                      helpers=count - 1),
                    key=lambda chunk: chunk.start)
    return [entry for chunk in chunks for entry in chunk.entries()]


class EntryChunk(NamedTuple):
    """The entries of consecutive pairs, packed: what :func:`iter_entry_chunks` hands out.

    Entry ``i`` is pair ``start + i``; its 32-byte values are ``keys[32 * i:32 * i + 32]`` and so
    on, its grams ``grams[2 * i]`` (WTW) and ``grams[2 * i + 1]`` (TTW), and its canonical
    record the ``lengths[i]`` bytes of ``records`` after the ones before it.
    """

    start: int
    shipment_ids: list[str]
    keys: bytes
    """On-chain shipment ids (:func:`ledger.records.canonical.chain_shipment_id_bytes`)."""
    record_hashes: bytes
    leaf_hashes: bytes
    """Merkle leaf hashes (double keccak-256 of the ABI-encoded leaf)."""
    grams: array.array[int]
    lengths: array.array[int]
    records: bytes

    @property
    def size(self) -> int:
        """How many entries the chunk holds."""
        return len(self.lengths)

    def canonical(self) -> list[bytes]:
        """The canonical records, in order."""
        view = memoryview(self.records)
        out = []
        offset = 0
        for length in self.lengths:
            out.append(bytes(view[offset:offset + length]))
            offset += length
        return out

    def leaves(self) -> list[Leaf]:
        keys, hashes, grams = self.keys, self.record_hashes, self.grams
        return [Leaf(keys[at:at + 32], hashes[at:at + 32], grams[2 * i], grams[2 * i + 1])
                for i, at in enumerate(range(0, 32 * self.size, 32))]

    def entries(self) -> list[RecordEntry]:
        return [RecordEntry(data, leaf)
                for data, leaf in zip(self.canonical(), self.leaves(), strict=True)]


def _pack(start: int, ids: list[str], datas: list[bytes], keys: list[bytes], grams: list[int]
          ) -> EntryChunk:
    hashes = keccak_many(datas)
    wtw, ttw = grams[0::2], grams[1::2]
    leaf_hashes = keccak_many(keccak_many([
        key + record_hash + wtw_g.to_bytes(32, "big") + ttw_g.to_bytes(32, "big")
        for key, record_hash, wtw_g, ttw_g in zip(keys, hashes, wtw, ttw, strict=True)
    ]))
    return EntryChunk(start, ids, b"".join(keys), b"".join(hashes), b"".join(leaf_hashes),
                      array.array("q", grams), array.array("q", map(len, datas)),
                      b"".join(datas))


def _build_chunk(items: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], start: int,
                 stop: int, exporter: str, factor_set_id: str) -> EntryChunk:
    """The chunk of pairs ``start:stop``; raises the first bad pair's ``InputError``."""
    pairs = items[start:stop]
    fast = _fast_parts(pairs, exporter, factor_set_id)
    if fast is not None:
        return _pack(start, *fast)
    ids: list[str] = []
    datas: list[bytes] = []
    keys: list[bytes] = []
    grams: list[int] = []
    for shipment, footprint in pairs:  # the checks one by one, raising the first problem
        data, (key, _, wtw_g, ttw_g) = entry_parts(shipment, footprint, exporter, factor_set_id)
        ids.append(shipment["shipment_id"])
        datas.append(data)
        keys.append(key)
        grams += (wtw_g, ttw_g)
    return _pack(start, ids, datas, keys, grams)


def _fast_parts(pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], exporter: str,
                factor_set_id: str) -> tuple[list[str], list[bytes], list[bytes], list[int]] | None:
    """:func:`entry_parts` of plain-dict pairs with the checks done for all of them at once;
    ``None`` when any pair needs the checks one by one (a problem, or a value of another type)."""
    records: list[dict[str, Any]] = []
    ids: list[str] = []
    grams: list[int] = []
    for shipment, footprint in pairs:
        if type(shipment) is not dict or type(footprint) is not dict:
            return None
        shipment_id = shipment.get("shipment_id")
        wtw_g, ttw_g = footprint.get("co2e_wtw_g"), footprint.get("co2e_ttw_g")
        computed_with = footprint.get("factor_set_id", factor_set_id)
        if type(shipment_id) is not str or not shipment_id \
                or footprint.get("shipment_id", shipment_id) != shipment_id \
                or type(wtw_g) is not int or type(ttw_g) is not int or wtw_g < 0 or ttw_g < 0 \
                or (computed_with != factor_set_id and (
                    not isinstance(computed_with, str) or computed_with.lower() != factor_set_id)):
            return None
        records.append({"schema": RECORD_SCHEMA, "exporter": exporter,
                        "shipment_id": shipment_id, "factor_set_id": factor_set_id,
                        "shipment": shipment, "footprint": footprint})
        ids.append(shipment_id)
        grams += (wtw_g, ttw_g)
    try:
        datas = canonical_json_many(records)
        shipment_key = chain_shipment_id_function(exporter)
        keys = [shipment_key(shipment_id) for shipment_id in ids]
    except InputError:
        return None
    return ids, datas, keys, grams


def iter_entry_chunks(
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    exporter: str,
    factor_set_id: str,
    helpers: int | None = None,
) -> Iterator[EntryChunk]:
    """Every pair's entry (as :func:`build_entry` builds it), in chunks of consecutive pairs,
    each handed out as soon as it is built: not in input order (see :func:`iter_shaped_chunks`).
    """
    return iter_shaped_chunks(pairs, exporter=exporter, factor_set_id=factor_set_id,
                              helpers=helpers, shape=_as_built)


def _as_built(chunk: EntryChunk) -> EntryChunk:
    return chunk


def iter_shaped_chunks(
    pairs: Iterable[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    exporter: str,
    factor_set_id: str,
    shape: Callable[[EntryChunk], T],
    helpers: int | None = None,
    build_here: bool = True,
) -> Iterator[T]:
    """``shape(chunk)`` of every chunk of consecutive pairs' entries (:class:`EntryChunk`), each
    handed out as soon as it is built: not in input order. ``shape`` runs where the chunk is
    built, so what a caller does to every entry (rows for a database, say) is spread too.

    From :data:`PARALLEL_MIN_PAIRS` pairs on, ``helpers`` forked processes (default: as many as
    the CPUs this process may use) build chunks; this one builds too (``build_here``) whenever no
    helper's chunk is waiting, or (without) only picks them up: a caller with work of its own
    for each chunk (storing it) leaves the building to the helpers. Only this process works
    where forking is unsafe or impossible (other threads running, a daemonic process, no
    ``fork`` start method).

    A bad pair raises the ``InputError`` one process would raise (the first problem in input
    order) once every chunk before it is handed out: a chunk with a problem (or whose helper
    died) is built again here at the end, in order.
    """
    items = pairs if isinstance(pairs, Sequence) else list(pairs)
    exporter = normalise_address(exporter)
    factor_set_id = factor_set_id_text(factor_set_id)
    bounds = _chunk_bounds(len(items))
    count = _usable_cpus() if helpers is None else helpers
    if count < 1 or len(items) < PARALLEL_MIN_PAIRS or not _can_fork():
        for start, stop in bounds:
            yield shape(_build_chunk(items, start, stop, exporter, factor_set_id))
        return
    done: set[int] = set()
    with paused_gc():
        yield from _chunks_shared((items, bounds, exporter, factor_set_id, shape), count, done,
                                  build_here=build_here)
    for index, (start, stop) in enumerate(bounds):
        if index not in done:
            yield shape(_build_chunk(items, start, stop, exporter, factor_set_id))


def _chunk_bounds(count: int) -> list[tuple[int, int]]:
    """Chunks of :data:`_CHUNK_PAIRS` pairs, with smaller ones first and last when there are
    many: the first reaches a caller sooner, and the last leave it less to do after the rest."""
    size = _CHUNK_PAIRS
    ramp = [size // 8, size // 4, size // 2]
    if count < 4 * size or not all(ramp):
        sizes = [size] * (count // size) + ([count % size] if count % size else [])
    else:
        middle = count - 2 * sum(ramp)
        sizes = [*ramp, *[size] * (middle // size), *([middle % size] if middle % size else []),
                 *reversed(ramp)]
    bounds, start = [], 0
    for length in sizes:
        bounds.append((start, start + length))
        start += length
    return bounds


#: What every builder of chunks shares: the pairs, the chunks' bounds, the exporter, the factor
#: set id and the shape function.
_Job = tuple[Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], list[tuple[int, int]], str,
             str, Callable[[EntryChunk], Any]]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """The cycle collector off for a bulk step that makes many objects and no cycles.

    With a large heap (100,000 footprints in memory) its passes over every live object cost a
    quarter of the time of building records, planning and storing them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks_shared(job: _Job, helpers: int, done: set[int], *, build_here: bool
                   ) -> Iterator[Any]:
    """Chunks built by ``helpers`` forked processes (and this one, with ``build_here``), each
    taking the next chunk nobody took yet; ``done`` receives the index of each chunk handed out
    (a chunk with a problem, or whose helper died, is not: the caller builds it).

    A helper writes each chunk to a spool file of its own and notes it on a pipe, so it never
    waits for this process, which picks the chunks up as they come (between two of its own).
    """
    context = multiprocessing.get_context("fork")
    next_chunk = context.Value("q", 0)
    spools: dict[multiprocessing.connection.Connection, int] = {}
    with contextlib.ExitStack() as stack:
        gc.freeze()  # the helpers share the input's pages; their collector leaves them alone
        try:
            for _ in range(helpers):
                try:
                    spool = stack.enter_context(tempfile.TemporaryFile(prefix="ledger-records-"))
                    receiver, sender = context.Pipe(duplex=False)
                    stack.callback(receiver.close)
                    process = context.Process(target=_help, args=(sender, spool.fileno(),
                                                                  next_chunk, job), daemon=True)
                    process.start()
                except OSError:  # no spool file or no fork: fewer helpers (maybe none)
                    break
                stack.callback(_stop, process)
                sender.close()
                spools[receiver] = spool.fileno()
        finally:
            gc.unfreeze()
        if build_here or not spools:
            for index, chunk in _take_chunks(next_chunk, job):
                if chunk is not None:
                    done.add(index)
                    yield chunk
                for receiver, fd in spools.items():
                    yield from _collect(receiver, fd, done)
        while spools := {pipe: fd for pipe, fd in spools.items() if not pipe.closed}:
            for ready in multiprocessing.connection.wait(list(spools)):
                pipe = typing.cast(multiprocessing.connection.Connection, ready)
                yield from _collect(pipe, spools[pipe], done)


def _stop(process: multiprocessing.process.BaseProcess) -> None:
    if process.is_alive():
        process.terminate()
    process.join()


def _take_chunks(next_chunk: Any, job: _Job) -> Iterator[tuple[int, Any]]:
    """Build and shape the next chunk nobody took yet until none is left (``None``: it has a
    problem)."""
    items, bounds, exporter, factor_set_id, shape = job
    while True:
        with next_chunk.get_lock():
            index = next_chunk.value
            next_chunk.value += 1
        if index >= len(bounds):
            return
        start, stop = bounds[index]
        try:
            chunk = shape(_build_chunk(items, start, stop, exporter, factor_set_id))
        except Exception:  # the chunk is built again by the caller, which raises the problem
            yield index, None
        else:
            yield index, chunk


def _help(sender: multiprocessing.connection.Connection, spool: int, next_chunk: Any,
          job: _Job) -> None:
    """A forked helper: build chunks, append each to the spool file, note where it is."""
    offset = 0
    for index, chunk in _take_chunks(next_chunk, job):
        if chunk is None:
            continue
        payload = pickle.dumps(chunk, protocol=5)
        written = 0
        while written < len(payload):
            written += os.pwrite(spool, payload[written:], offset + written)
        sender.send((index, offset, len(payload)))
        offset += len(payload)
    sender.close()


def _collect(receiver: multiprocessing.connection.Connection, spool: int, done: set[int]
             ) -> Iterator[Any]:
    """The chunks a helper noted as written so far; the pipe is closed here once the helper is
    done (or died, leaving its unwritten chunks to the caller)."""
    while not receiver.closed and receiver.poll():
        try:
            index, offset, size = receiver.recv()
        except (EOFError, OSError):
            receiver.close()
            return
        shaped = pickle.loads(os.pread(spool, size, offset))
        done.add(index)
        yield shaped


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return ("fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1
            and not multiprocessing.current_process().daemon)
