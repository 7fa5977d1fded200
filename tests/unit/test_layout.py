"""The house along the flow (docs/architecture.md): floors, no circles, one door to the chain.

The import graph is read from the source (every ``import``, at module level or inside a
function), so a lazy import cannot hide a circle or a reach upwards.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The floors, bottom to top. A module may import its own floor and the floors below it.
#: ``chain`` and ``store`` share a floor but do not import each other.
FLOORS: dict[str, int] = {
    "errors": 0, "config": 1, "types": 1, "factors": 2, "inputs": 3, "footprint": 4, "records": 5,
    "chain": 6, "store": 6, "anchoring": 7, "reports": 8, "declaration": 9, "verify": 10,
    "dev": 11, "api": 12, "cli": 13,
}


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("ledger", "api"):
        for path in (ROOT / top).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> Iterator[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        for name in names:
            target = _resolve(name)
            if target and target != module and not module.startswith(target + "."):
                yield target


GRAPH = {m: set(_imports(m)) for m in MODULES if ".migrations" not in m}


def _floor(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "api":
        return "api"
    return parts[1] if len(parts) > 1 else None


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in GRAPH.get(node, ()):
            if nxt not in GRAPH:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_every_module_sits_on_a_known_floor() -> None:
    loose = sorted(m for m in GRAPH if _floor(m) is not None and _floor(m) not in FLOORS)
    assert not loose, f"modules outside the floors of docs/architecture.md: {loose}"


def test_no_import_circles() -> None:
    assert _cycles() == []


def test_no_module_imports_a_floor_above_its_own() -> None:
    upward = []
    for module, targets in GRAPH.items():
        here = _floor(module)
        for target in targets:
            there = _floor(target)
            if here is None or there is None or here == there:
                continue
            if FLOORS[there] >= FLOORS[here]:
                upward.append(f"{module} -> {target}")
    assert sorted(upward) == []


def test_top_of_the_library_has_at_most_eight_modules() -> None:
    top = sorted(p.name for p in (ROOT / "ledger").glob("*.py"))
    assert len(top) <= 8, top


@pytest.mark.parametrize("package", ["web3"])
def test_one_module_talks_to_the_node(package: str) -> None:
    users = sorted({
        m for m, path in MODULES.items()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Import) and any(a.name.split(".")[0] == package
                                                 for a in node.names))
        or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == package)
    })
    assert users == ["ledger.chain.client"]


def test_the_service_does_not_import_the_command_line() -> None:
    reaching = sorted(f"{m} -> {t}" for m, ts in GRAPH.items() if m.startswith("api")
                      for t in ts if t.startswith("ledger.cli"))
    assert reaching == []
