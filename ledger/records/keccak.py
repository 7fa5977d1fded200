"""keccak-256, Ethereum's hash (the original Keccak padding, not FIPS 202 SHA3-256).

Several implementations may be installed; :func:`keccak_backends` lists those that pass a
known-answer test, fastest first, and :func:`keccak_function` hands out the fastest for loops that
hash many values. Every backend gives the same digests.
"""

from __future__ import annotations

import ctypes
import importlib.util
import threading
from collections.abc import Callable, Iterable
from functools import cache

__all__ = [
    "keccak256",
    "keccak256_hex",
    "keccak_backends",
    "keccak_function",
    "keccak_many",
]

#: keccak-256 of the empty string, the known answer every backend must give.
_KECCAK_EMPTY = bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")


class _KeccakState:
    """One Keccak state of the shared library and its output buffer; freed with the object."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        handle = ctypes.c_void_p()
        # capacity 512 bits (keccak-256), 24 rounds
        if lib.keccak_init(ctypes.byref(handle), 64, 24) != 0 or handle.value is None:
            raise RuntimeError("keccak_init failed")
        self.handle: int = handle.value
        self.out = ctypes.create_string_buffer(32)
        self._destroy = lib.keccak_destroy

    def __del__(self) -> None:
        self._destroy(self.handle)


class _RawKeccak:
    """keccak-256 through pycryptodome's compiled Keccak, one reusable state per thread.

    ``Crypto.Hash.keccak.new`` builds several Python objects per call; calling the same shared
    library directly (reset, absorb, digest on a kept state) is about four times faster.
    """

    def __init__(self, path: str) -> None:
        lib = ctypes.CDLL(path)
        lib.keccak_init.argtypes = [
            ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.c_ubyte,
        ]
        lib.keccak_init.restype = ctypes.c_int
        lib.keccak_destroy.argtypes = [ctypes.c_void_p]
        lib.keccak_destroy.restype = ctypes.c_int
        lib.keccak_reset.argtypes = [ctypes.c_void_p]
        lib.keccak_reset.restype = ctypes.c_int
        lib.keccak_absorb.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.keccak_absorb.restype = ctypes.c_int
        lib.keccak_digest.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_ubyte,
        ]
        lib.keccak_digest.restype = ctypes.c_int
        self._lib = lib
        self._reset = lib.keccak_reset
        self._absorb = lib.keccak_absorb
        self._digest = lib.keccak_digest
        self._local = threading.local()  # ctypes releases the GIL: never share a state

    def __call__(self, data: bytes) -> bytes:
        try:
            state: _KeccakState = self._local.state
        except AttributeError:
            state = self._local.state = _KeccakState(self._lib)
        handle = state.handle
        self._reset(handle)
        self._absorb(handle, data, len(data))
        self._digest(handle, state.out, 32, 1)  # padding 0x01: Keccak, not SHA-3
        return state.out.raw  # type: ignore[no-any-return]


def _pycryptodome_keccak(data: bytes) -> bytes:
    from Crypto.Hash import keccak

    return keccak.new(data=data, digest_bits=256).digest()  # type: ignore[no-any-return]


def _pysha3_keccak() -> Callable[[bytes], bytes] | None:
    try:
        from sha3 import keccak_256  # safe-pysha3, when installed
    except ImportError:
        return None

    def pysha3_keccak(data: bytes) -> bytes:
        return keccak_256(data).digest()  # type: ignore[no-any-return]

    return pysha3_keccak


def _raw_pycryptodome_keccak() -> Callable[[bytes], bytes] | None:
    spec = importlib.util.find_spec("Crypto.Hash._keccak")
    if spec is None or spec.origin is None:
        return None
    try:
        return _RawKeccak(spec.origin)
    except (OSError, AttributeError):
        return None


@cache
def keccak_backends() -> dict[str, Callable[[bytes], bytes]]:
    """Every keccak-256 implementation available here that passes a known-answer test.

    Fastest first: ``safe-pysha3`` (when installed), pycryptodome's compiled Keccak called with a
    kept state, then pycryptodome's public ``keccak.new``. All give the same digests.
    """
    found: dict[str, Callable[[bytes], bytes]] = {}
    for name, make in [
        ("safe-pysha3", _pysha3_keccak),
        ("pycryptodome (kept state)", _raw_pycryptodome_keccak),
    ]:
        try:
            function = make()
            if function is not None and function(b"") == _KECCAK_EMPTY:
                found[name] = function
        except (OSError, RuntimeError, TypeError):
            continue
    found["pycryptodome"] = _pycryptodome_keccak
    return found


@cache
def _keccak_impl() -> Callable[[bytes], bytes]:
    return next(iter(keccak_backends().values()))


def keccak_function() -> Callable[[bytes], bytes]:
    """The fastest keccak-256 function here, for loops that hash many values."""
    return _keccak_impl()


def keccak_many(items: Iterable[bytes]) -> list[bytes]:
    """keccak-256 of each of ``items`` (``bytes``), in order: for trees and other long loops."""
    return _many_impl()(items)


@cache
def _many_impl() -> Callable[[Iterable[bytes]], list[bytes]]:
    name, function = next(iter(keccak_backends().items()))
    if name == "safe-pysha3":
        from sha3 import keccak_256

        def pysha3_many(items: Iterable[bytes]) -> list[bytes]:
            return [keccak_256(data).digest() for data in items]

        return pysha3_many
    return lambda items: list(map(function, items))


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """keccak-256 (Ethereum's hash, not SHA3-256) of ``data``, 32 bytes."""
    return _keccak_impl()(data if type(data) is bytes else bytes(data))


def keccak256_hex(data: bytes | bytearray | memoryview) -> str:
    """keccak-256 of ``data`` as ``0x`` and 64 lower-case hex digits."""
    return "0x" + keccak256(data).hex()


