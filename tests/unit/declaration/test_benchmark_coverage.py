"""Every CBAM good the default-value table gives a value for has its benchmark, or the
declaration refuses the line with an error naming the good and the route.

The universe is the declaration factor set's Annex I table (Implementing Regulation (EU)
2025/2621 as corrected by 2026/1740): every row with a value, at each 8-digit CN code it covers
(its own code, or for a 4- or 6-digit line every 8-digit code of the benchmark table under it
that no longer line of the same country takes). Each is resolved as a declaration line on that
default value would be (Column B of Implementing Regulation (EU) 2025/2620, the route of the
default-value row).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ledger.declaration.build import declaration_factor_set
from ledger.declaration.consignments import ConsignmentRow
from ledger.declaration.resolve import Resolved, Resolver
from ledger.declaration.tables import DeclarationTables
from ledger.factors.cbam_defaults import spaced
from ledger.factors.factorset import FactorSet


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return declaration_factor_set()


def _row(cn8: str, *, method: str, default_ref: str = "", route_text: str = ""
         ) -> ConsignmentRow:
    return ConsignmentRow(
        shipment_id="S", exporter="0x" + "22" * 20, declarant="NL009900001",
        import_date=date(2026, 2, 1), cn8=cn8, cn_code=cn8, sector="", country="CN",
        installation_id="I", operator="", route_text=route_text, data_type=method,
        method=method, verifier="", net_mass_g=1_000_000, embedded_g=1_000_000,
        default_ref=default_ref, specific_direct="1", specific_indirect="0", markup_year="2026")


def _goods(factor_set: FactorSet) -> Iterator[tuple[str, dict[str, str]]]:
    """(8-digit CN code, default-value row) for every good the default-value table values."""
    annex = factor_set.tables["cbam_annex_i"]
    codes = sorted({r["cn_code"] for r in factor_set.tables["cbam_benchmarks"].rows})
    valued = [r for r in annex.rows if r["total_t_per_t"] or r["direct_t_per_t"]]
    lines: dict[str, list[str]] = {}
    for r in annex.rows:
        lines.setdefault(r["country"], []).append(r["cn_code"])
    for r in valued:
        cn = r["cn_code"]
        if len(cn) >= 8:
            yield cn[:8], r
            continue
        longer = [c for c in lines[r["country"]] if c.startswith(cn) and len(c) > len(cn)]
        for code in codes:
            if code.startswith(cn) and not any(code.startswith(c) or c.startswith(code)
                                               for c in longer):
                yield code, r


def test_every_valued_good_has_its_column_b_benchmark_or_a_named_refusal(
        factor_set: FactorSet) -> None:
    resolver = Resolver(factor_set, DeclarationTables(factor_set))
    annex = factor_set.tables["cbam_annex_i"]
    resolved = 0
    refused: dict[tuple[str, str], str] = {}
    for cn8, r in _goods(factor_set):
        found = resolver.resolve(
            _row(cn8, method="default", default_ref=f"{annex.name}#{r['key']}"), 2026)
        if isinstance(found, Resolved):
            assert found.benchmark.column == "B" and found.benchmark.cn8 == cn8
            assert found.benchmark.route in ("", r["route"])
            resolved += 1
            continue
        field, message = found
        refused[(cn8, r["route"])] = message
        assert field == "cn_code"
        # never a good without a Column B row: only a choice between rows is left open
        assert "no CBAM benchmark" not in message, message
        assert f"CN {spaced(cn8)} has CBAM benchmarks per production route" in message
        assert (f"route {r['route']!r}" if r["route"] else "no route is given") in message
    assert resolved > 0
    for (cn8, route), message in refused.items():
        # left open only where the route is several routes or the values carry footnotes
        assert "/" in route or "footnote markers" in message, (cn8, route, message)


def test_a_code_without_column_a_is_refused_on_actual_values_naming_code_and_column(
        factor_set: FactorSet) -> None:
    tables = DeclarationTables(factor_set)
    resolver = Resolver(factor_set, tables)
    with_a = {r["cn_code"] for r in tables.benchmarks.rows if r["column"] == "A"}
    without_a = sorted({r["cn_code"] for r in tables.benchmarks.rows} - with_a)
    assert without_a
    for cn8 in without_a:
        refused = resolver.resolve(_row(cn8, method="actual", route_text="C"), 2026)
        assert isinstance(refused, tuple), refused
        field, message = refused
        assert field == "installation.production_route"
        assert f"no CBAM benchmark in Column A (used with actual values) for CN {spaced(cn8)}" \
            in message
    for cn8 in sorted(with_a):
        routes = sorted(r["route"] for r in tables.benchmarks.rows
                        if r["cn_code"] == cn8 and r["column"] == "A")
        found = resolver.resolve(_row(cn8, method="actual", route_text=routes[0]), 2026)
        assert isinstance(found, Resolved), found
        assert found.benchmark.column == "A"
