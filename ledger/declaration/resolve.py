"""Which benchmark, default value and price apply to a consignment: one rule for both paths.

A line on default values takes the benchmark of Column B for the route of the default-value row
the record names (``factor_ref``, a row of the factor set's Annex I table); a line on actual
values takes Column A for the route the installation names. For the cost forecast, an actual-
value consignment is also priced on the default value it would have had (Annex I of
Implementing Regulation (EU) 2025/2621 with the mark-up of the import year, exactly as the
footprint engine computes it) and that value's Column B benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.declaration.consignments import ConsignmentRow
from ledger.declaration.tables import Benchmark, DeclarationTables, normalise_route
from ledger.factors.cbam import ScopeMatch
from ledger.factors.cbam_defaults import DefaultValue
from ledger.factors.factorset import FactorSet

__all__ = ["Resolved", "Resolver"]


@dataclass(frozen=True)
class Resolved:
    """The benchmark of a consignment's line and its default-value counterfactual."""

    benchmark: Benchmark
    route: str
    default_marked_e8: int | None
    default_benchmark: Benchmark | None
    default_ref: str | None


class Resolver:
    """Resolves consignments, cached by what decides the answer."""

    def __init__(self, factor_set: FactorSet, tables: DeclarationTables) -> None:
        self.factor_set = factor_set
        self.tables = tables
        self.annex = factor_set.tables.get("cbam_annex_i")
        self._cache: dict[tuple[str, ...], Resolved | tuple[str, str]] = {}

    def resolve(self, row: ConsignmentRow, year: int) -> Resolved | tuple[str, str]:
        """The resolution of ``row`` imported in ``year``, or (field, problem)."""
        key = (row.cn_code, row.country, row.method, row.route_text, row.default_ref,
               str(year))
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(row, year)
        return found

    def _default_route(self, ref: str) -> str | tuple[str, str]:
        table, _, key = ref.partition("#")
        if self.annex is None or table != self.annex.name or key not in self.annex.by_key:
            return ("footprint.cbam.factor_ref",
                    f"default value {ref!r} is not a row of this factor set's Annex I table "
                    f"({self.annex.name if self.annex else 'none'}): a declaration never mixes "
                    "default-value tables; recompute the consignment with this factor set")
        return self.annex.by_key[key]["route"]

    def _resolve(self, row: ConsignmentRow, year: int) -> Resolved | tuple[str, str]:
        if len(row.cn8) != 8:
            return ("cn_code", f"CN {row.cn_code} has fewer than 8 digits: CBAM benchmarks are "
                    "given per 8-digit CN code; declare the full code")
        default_value: DefaultValue | None = None
        if row.method == "default":
            route = self._default_route(row.default_ref)
            if isinstance(route, tuple):
                return route
            bench = self.tables.benchmark(row.cn8, "B", route or None)
            if isinstance(bench, str):
                return ("cn_code", bench)
            return Resolved(bench, bench.route, None, bench, row.default_ref)
        route_a = normalise_route(row.route_text)
        bench = self.tables.benchmark(row.cn8, "A", route_a)
        if isinstance(bench, str):
            return ("installation.production_route", bench)
        match = self.factor_set.cbam_scope.classify(row.cn_code)
        if not isinstance(match, ScopeMatch):
            return ("cn_code", match)
        found = self.factor_set.cbam_defaults.resolve(
            row.cn_code, row.country, year, direct_only=match.annex_ii, sector=match.sector)
        default_bench: Benchmark | None = None
        if isinstance(found, DefaultValue):
            default_value = found
            route = self._default_route(found.ref)
            if isinstance(route, str):
                b = self.tables.benchmark(row.cn8, "B", route or None)
                default_bench = b if isinstance(b, Benchmark) else None
        return Resolved(bench, bench.route,
                        default_value.marked_e8 if default_value else None, default_bench,
                        default_value.ref if default_value else None)
