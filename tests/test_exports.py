"""Every public module of the library exports names that exist (``__all__``), and the package
ships its type marker and data."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import ledger

MODULES = sorted(
    m.name for m in pkgutil.walk_packages(ledger.__path__, prefix="ledger.")
    if ".migrations" not in m.name and not m.name.startswith("ledger.cli.") and not m.ispkg
    and not m.name.split(".")[-1].startswith("_")
)


@pytest.mark.parametrize("name", MODULES)
def test_public_names_import(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} declares no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"


def test_package_is_typed() -> None:
    assert (Path(ledger.__file__).parent / "py.typed").is_file()
