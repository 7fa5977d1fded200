"""The library's public face (``ledger/__init__.py``) and every module's ``__all__``.

A module's ``__all__`` lists only names that it defines (no re-exports: a name has one home);
the public face names about thirty of them, imported on first use, and the flow its docstring
shows runs end to end on a local chain with nothing but those names.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import ledger

ROOT = Path(__file__).resolve().parents[2]

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


@pytest.mark.parametrize("name", MODULES)
def test_modules_export_only_what_they_define(name: str) -> None:
    module = importlib.import_module(name)
    borrowed = sorted(
        f"{n} (from {obj.__module__})" for n in getattr(module, "__all__", ())
        if (inspect.isclass(obj := getattr(module, n)) or inspect.isfunction(obj))
        and obj.__module__ != name
    )
    assert borrowed == [], f"{name} re-exports names defined elsewhere"


def test_the_public_face_names_what_a_user_needs_and_each_resolves() -> None:
    assert 25 <= len(ledger.__all__) <= 45
    assert set(ledger.__all__) - {"__version__"} == set(ledger._EXPORTS)
    for name in ledger.__all__:
        value = getattr(ledger, name)
        home = getattr(value, "__module__", None)
        if name != "__version__":
            assert home is not None and home.startswith("ledger."), name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = ledger.nothing_here  # type: ignore[attr-defined]


def test_importing_the_package_loads_no_engine() -> None:
    code = ("import sys, ledger, ledger.errors; "
            "print(sorted(m for m in ('web3', 'pandas', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_package_is_typed() -> None:
    assert (Path(ledger.__file__).parent / "py.typed").is_file()


@pytest.mark.chain
def test_the_flow_of_the_public_face_runs_end_to_end(tmp_path: Path) -> None:
    shipments = ledger.read_shipments(ROOT / "examples" / "demo-shipments.json")
    factors = ledger.load_factor_set()
    with ledger.local_ledger() as local, ledger.open_store(tmp_path / "ledger.sqlite") as store:
        exporter = local.exporters[0]
        contract = ledger.open_deployment(local.connect(exporter), local.deployment)
        mine = [s for s in shipments if s.shipment_id == "YW-RAIL-2026-0001"]
        result = ledger.anchor_shipments(mine, factors, store=store, ledger=contract)
        assert result.nothing_new is False
        bundle = ledger.proof_bundle(store, ledger.scope_of(contract), "YW-RAIL-2026-0001")
        report = ledger.issue_report([bundle], issuer_key=exporter.private_key,
                                     period=(date(2026, 1, 1), date(2026, 12, 31)),
                                     issued_at=datetime(2026, 12, 1, tzinfo=UTC))
        verdict = ledger.verify_report(report, contract, recompute=ledger.shipped_recompute())
    assert verdict.ok, verdict.to_dict()
