"""The array search over searoute's graph gives what one plain searoute call gives.

The reference is :func:`searoute_route` (one ``searoute.searoute`` call, the router's path before
the array search). Random pairs of searoute's terminal ports (fixed seed), under the restrictions
the router uses, must come out with the same float length and the same passages, or the same
error; the router's distances (whole km, passage label) must match a router that calls searoute
for every route. Small graphs of our own check the tie rule: a second path of the same weight
is left to searoute.
"""

from __future__ import annotations

import random
import warnings
from typing import Any

import pytest
from searoute.classes.marnet import Marnet
from searoute.data.ports_dict import node_list
from searoute.utils import from_nodes_edges_set

from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.factors.sea_graph import SeaGraph, SeaGraphNoPath, SeaGraphRoute, searoute_route

#: The router's sets of avoided passages: always northwest; avoid_suez adds suez and panama;
#: avoid_panama adds panama.
RESTRICTIONS = (frozenset({"northwest"}), frozenset({"northwest", "suez", "panama"}),
                frozenset({"northwest", "panama"}))


@pytest.fixture(scope="module")
def graph() -> SeaGraph:
    return SeaGraph.from_searoute()


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def _either(call: Any) -> SeaGraphRoute | str | None:
    try:
        result: SeaGraphRoute | None = call()
    except Exception as exc:  # searoute raises networkx's exceptions
        return f"error: {exc}"
    return result


def test_random_port_pairs_route_as_searoute_does(graph: SeaGraph) -> None:
    ports = sorted((lon, lat) for (lon, lat), p in node_list.items() if p.get("t") == 1.0)
    rng = random.Random(20261203)
    answered = 0
    passages: set[str] = set()
    pairs = 180
    for k in range(pairs):
        a, b = rng.sample(ports, 2)
        avoided = RESTRICTIONS[k % len(RESTRICTIONS)]
        fast = _either(lambda a=a, b=b, r=avoided: graph.route(a, b, r))
        if fast is None:  # a tie: the router asks searoute
            continue
        answered += 1
        reference = _either(lambda a=a, b=b, r=avoided: searoute_route(a, b, r))
        assert fast == reference, (a, b, sorted(avoided))
        if isinstance(fast, SeaGraphRoute):
            passages |= fast.passages
    # the comparison is real: most pairs are answered by the array search, through every passage
    assert answered >= 0.9 * pairs
    assert {"suez", "panama", "south_africa", "chili"} <= passages


@pytest.mark.parametrize(("origin", "destination"), [
    ("CNNGB", "NLRTM"), ("CNSHA", "USNYC"), ("SGSIN", "BRSSZ"), ("USLAX", "DEHAM"),
    ("JPYOK", "GBLON"), ("AUSYD", "CLVAP"), ("INBOM", "USHOU"), ("KRPUS", "ZADUR"),
])
def test_router_distances_equal_a_router_calling_searoute(
        factor_set: FactorSet, origin: str, destination: str) -> None:
    fast, plain = Router(), Router(graph_search=False)
    for options in ({}, {"avoid_suez": True}, {"avoid_panama": True},
                    {"avoid_suez": True, "avoid_panama": True}):
        assert fast.distance("sea", origin, destination, factor_set.params, **options) == \
            plain.distance("sea", origin, destination, factor_set.params, **options), options


Node = tuple[float, float]


def _square(extra: dict[Node, dict[Node, float]], ac_km: float,
            ac_passage: str | None = None) -> Any:
    """A (0,0) - B (10,0) - D (10,10), the B-D edge through "suez", and A - C (0,10) - D."""
    a, b, c, d = (0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (10.0, 10.0)
    links: list[tuple[Node, Node, float, str | None]] = [
        (a, b, 1000.0, None), (b, d, 1000.0, "suez"), (a, c, ac_km, ac_passage),
        (c, d, 1000.0, None)]
    links += [(u, v, km, None) for u, targets in extra.items() for v, km in targets.items()]
    edges: dict[Node, dict[Node, dict[str, Any]]] = {(50.0, 50.0): {}}  # a node no edge reaches
    for u, v, km, passage in links:
        data: dict[str, Any] = {"weight": km} if passage is None else \
            {"weight": km, "passage": passage}
        edges.setdefault(u, {})[v] = data
        edges.setdefault(v, {})[u] = data
    nodes = {n: {"x": n[0], "y": n[1]} for n in edges}
    return from_nodes_edges_set(Marnet(), nodes, edges)


def _reference(marnet: Any, origin: Node, destination: Node,
               avoided: frozenset[str]) -> SeaGraphRoute | str | None:
    """One searoute call on the given graph."""
    import searoute

    def call() -> SeaGraphRoute:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # searoute warns when restrictions leave no path
            route = searoute.searoute(list(origin), list(destination), units="km",
                                      restrictions=sorted(avoided), return_passages=True,
                                      M=marnet)
        return SeaGraphRoute(float(route["properties"]["length"]),
                             frozenset(route["properties"]["traversed_passages"]))
    return _either(call)


def test_a_second_path_of_the_same_weight_is_left_to_searoute() -> None:
    tied = SeaGraph(_square({}, ac_km=1000.0))
    assert tied.route((0.0, 0.0), (10.0, 10.0), frozenset()) is None
    # one path shorter by 0.1 km: answered, and as searoute answers
    marnet = _square({}, ac_km=999.9)
    unique = SeaGraph(marnet)
    found = unique.route((0.0, 0.0), (10.0, 10.0), frozenset())
    assert found is not None and found == _reference(marnet, (0.0, 0.0), (10.0, 10.0),
                                                     frozenset())
    assert found.passages == frozenset()  # via C, not the Suez edge


def test_zero_weight_edges_make_a_tie_only_when_they_open_a_second_path() -> None:
    near_b = (10.000001, 0.0)
    # a near-duplicate of B hanging off B: no second path to D
    marnet = _square({near_b: {(10.0, 0.0): 0.0}}, ac_km=1000.1)
    dead_end = SeaGraph(marnet)
    found = dead_end.route((0.0, 0.0), (10.0, 10.0), frozenset())
    assert found is not None
    assert found == _reference(marnet, (0.0, 0.0), (10.0, 10.0), frozenset())
    assert found.passages == frozenset({"suez"})
    # the near-duplicate also linked to D at B's weight: A-B-D and A-B-B'-D weigh the same
    looped = SeaGraph(_square({near_b: {(10.0, 0.0): 0.0, (10.0, 10.0): 1000.0}},
                              ac_km=1000.1))
    assert looped.route((0.0, 0.0), (10.0, 10.0), frozenset()) is None


def test_no_path_is_reported_as_searoute_reports_it() -> None:
    marnet = _square({}, ac_km=999.9)
    graph = SeaGraph(marnet)
    # the target cut off by restrictions: searoute warns and gives an empty route of length 0
    blocked = frozenset({"suez", "panama"})
    cut = _square({}, ac_km=999.9, ac_passage="panama")
    assert SeaGraph(cut).route((0.0, 0.0), (10.0, 10.0), blocked) == \
        SeaGraphRoute(0.0, frozenset())
    assert _reference(cut, (0.0, 0.0), (10.0, 10.0), blocked) == SeaGraphRoute(0.0, frozenset())
    # a node no edge reaches: searoute's error, word for word
    with pytest.raises(SeaGraphNoPath) as raised:
        graph.route((0.0, 0.0), (50.0, 50.0), frozenset())
    assert f"error: {raised.value}" == _reference(marnet, (0.0, 0.0), (50.0, 50.0),
                                                  frozenset())


def test_a_graph_the_tie_rule_does_not_hold_for_is_left_to_searoute() -> None:
    # weights not in tenths of a km: a tie could hide under the rounding of the sums
    assert SeaGraph(_square({}, ac_km=999.95)).route((0.0, 0.0), (10.0, 10.0),
                                                     frozenset()) is None
    # an edge listed one way only: the search would not be searoute's
    one_way = _square({}, ac_km=999.9)
    del one_way._adj[(10.0, 10.0)][(0.0, 10.0)]  # the dict searoute loads as adjacency
    assert SeaGraph(one_way).route((0.0, 0.0), (10.0, 10.0), frozenset()) is None
