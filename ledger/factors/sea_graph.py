"""Shortest sea routes on the ``searoute`` maritime graph, searched over arrays.

``searoute`` (1.6.0) answers one route query in three steps:

1. each end snaps to the nearest node of its maritime graph (its own k-d tree over
   (lon, lat) in degrees, Euclidean distance);
2. a bidirectional Dijkstra search (networkx, pure Python) over the edge weights, km stored
   rounded to 0.1; an edge whose ``passage`` is restricted costs infinity;
3. the length is recomputed along the path's nodes (haversine, longitudes unwrapped across the
   antimeridian), and the passages are those of the path's edges that searoute knows.

:class:`SeaGraph` replaces step 2 only: the graph is held once as a compressed sparse row matrix,
restricted edges left out per set of restrictions, and one single-source Dijkstra search
(``scipy.sparse.csgraph``, compiled) gives the shortest-path tree of an origin node, kept so that
legs from (or to: the graph is undirected) the same node share one search. Steps 1 and 3 call
searoute's own functions on searoute's own graph object, so the snapping, the length and the
passages are computed as searoute computes them.

Equality: both searches find a path of least weight; the path is the same whenever only one
path has that weight. Every weight is a multiple of 0.1 km, so two paths whose weights differ
differ by at least 0.1 km, far above the rounding error of the sums. A path node that some node
other than its parent in the tree reaches at the same distance (leaving aside nodes hanging off
it by zero-weight edges, which are checked in turn) has a second path of least weight through
it: then :meth:`SeaGraph.route` answers None and the caller asks searoute, which breaks such ties
its own way (about 4 % of random port pairs). No path under the restrictions: length 0 and no
passages, as searoute gives (it warns and returns an empty route); no path at all:
:class:`SeaGraphNoPath` with searoute's message.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["SeaGraph", "SeaGraphNoPath", "SeaGraphRoute", "searoute_route", "shared_sea_graph"]

#: Slack under which an edge counts as lying on a path of least weight (weights are multiples
#: of 0.1 km: any other slack is 0.1 km or more).
_TIGHT_KM = 0.05
#: Shortest-path trees kept (one per origin node and set of restrictions, ~120 kB each).
_TREES_KEPT = 128
#: Positions whose snapped node is kept.
_SNAPS_KEPT = 100_000


class SeaGraphNoPath(Exception):
    """No path at all between the two snapped nodes (the graph has separate components)."""


@dataclass(frozen=True)
class SeaGraphRoute:
    """A route as searoute reports it: length in km (float) and the passages it traverses."""

    length_km: float
    passages: frozenset[str]


def searoute_route(origin: tuple[float, float], destination: tuple[float, float],
                   restrictions: frozenset[str]) -> SeaGraphRoute:
    """The route as one plain ``searoute`` call gives it (the reference :class:`SeaGraph` meets).

    Raises what searoute raises (e.g. networkx's ``NetworkXNoPath``).
    """
    import searoute

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        route = searoute.searoute(list(origin), list(destination), units="km",
                                  restrictions=sorted(restrictions), return_passages=True)
    return SeaGraphRoute(float(route["properties"]["length"]),
                         frozenset(str(p) for p in route["properties"]["traversed_passages"]))


@lru_cache(maxsize=1)
def shared_sea_graph() -> SeaGraph:
    """One graph per process, shared by routers (as searoute shares its own graph)."""
    return SeaGraph.from_searoute()


@dataclass(frozen=True)
class _Restricted:
    """The graph without the edges of some passages."""

    indptr: npt.NDArray[np.int32]
    indices: npt.NDArray[np.int32]
    weights: npt.NDArray[np.float64]
    matrix: Any  # scipy.sparse.csr_matrix


class SeaGraph:
    """searoute's maritime graph (``searoute.setup_M()``) as arrays; see the module docstring."""

    def __init__(self, marnet: Any) -> None:
        from scipy.sparse.csgraph import connected_components

        self._marnet = marnet
        self._nodes: list[Any] = list(marnet.nodes)
        self._index = {node: i for i, node in enumerate(self._nodes)}
        indptr = [0]
        indices: list[int] = []
        weights: list[float] = []
        passages: list[str | None] = []
        for node in self._nodes:
            for other, data in marnet.adj[node].items():
                indices.append(self._index[other])
                weights.append(float(data["weight"]))
                passage = data.get("passage")
                passages.append(None if passage is None else str(passage))
            indptr.append(len(indices))
        self._indptr = np.asarray(indptr, dtype=np.int32)
        self._indices = np.asarray(indices, dtype=np.int32)
        self._weights = np.asarray(weights, dtype=np.float64)
        self._passages = passages
        tenths = self._weights * 10
        heads = np.repeat(np.arange(len(self._nodes)), np.diff(self._indptr)).tolist()
        edges = set(zip(heads, self._indices.tolist(), weights, passages, strict=True))
        #: The search needs an undirected graph (each edge listed both ways, same weight and
        #: passage) and the tie check weights that are multiples of 0.1 km: searoute's are.
        self.exact = bool(np.all(np.abs(tenths - np.round(tenths)) < 1e-6)
                          and np.all(self._weights >= 0)
                          and all((v, u, w, p) in edges for u, v, w, p in edges))
        self._restricted: dict[frozenset[str], _Restricted] = {}
        self._trees: OrderedDict[tuple[int, frozenset[str]],
                                 tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]] = \
            OrderedDict()
        self._snapped: dict[tuple[float, float], Any] = {}
        self._lock = threading.Lock()  # routers in several threads may share one graph
        self.searches = 0
        _, self._component = connected_components(self._without(frozenset()).matrix,
                                                  directed=False)

    @classmethod
    def from_searoute(cls) -> SeaGraph:
        """The graph searoute itself routes on (loaded once per process by searoute)."""
        import searoute

        return cls(searoute.setup_M())

    def _without(self, restrictions: frozenset[str]) -> _Restricted:
        found = self._restricted.get(restrictions)
        if found is None:
            from scipy.sparse import csr_matrix

            n = len(self._nodes)
            keep = np.fromiter((p not in restrictions for p in self._passages), dtype=bool,
                               count=len(self._passages))
            row = np.repeat(np.arange(n, dtype=np.int32), np.diff(self._indptr))[keep]
            indices = self._indices[keep]
            weights = self._weights[keep]
            indptr = np.zeros(n + 1, dtype=np.int32)
            np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
            # explicit zeros (zero-weight edges across the antimeridian) stay edges
            matrix = csr_matrix((weights, indices, indptr), shape=(n, n))
            found = _Restricted(indptr, indices, weights, matrix)
            with self._lock:
                self._restricted[restrictions] = found
        return found

    def _kept_tree(self, root: int, restrictions: frozenset[str]
                   ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]] | None:
        key = (root, restrictions)
        with self._lock:
            found = self._trees.get(key)
            if found is not None:
                self._trees.move_to_end(key)
            return found

    def _tree(self, root: int, restrictions: frozenset[str]
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int32]]:
        found = self._kept_tree(root, restrictions)
        if found is not None:
            return found
        from scipy.sparse.csgraph import dijkstra

        dist, pred = dijkstra(self._without(restrictions).matrix, directed=True, indices=root,
                              return_predecessors=True)
        found = (np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32))
        with self._lock:
            self.searches += 1
            self._trees[(root, restrictions)] = found
            if len(self._trees) > _TREES_KEPT:
                self._trees.popitem(last=False)
        return found

    def _snap(self, position: tuple[float, float]) -> Any:
        """The graph node a (lon, lat) position snaps to (searoute's own k-d tree query)."""
        found = self._snapped.get(position)
        if found is None:
            found = self._marnet.kdtree.query(list(position))
            if len(self._snapped) < _SNAPS_KEPT:
                self._snapped[position] = found
        return found

    def route(self, origin: tuple[float, float], destination: tuple[float, float],
              restrictions: frozenset[str]) -> SeaGraphRoute | None:
        """The route between two (lon, lat) positions avoiding ``restrictions``.

        None when the route is not certain to be searoute's (a tie between paths of least
        weight, or weights that are not multiples of 0.1 km): the caller then asks searoute.
        """
        if not self.exact:
            return None
        from searoute.classes.passages import Passage
        from searoute.utils import distance_length, process_route, validate_lon_lat

        validate_lon_lat(list(origin))
        validate_lon_lat(list(destination))
        source, target = self._snap(origin), self._snap(destination)
        s, t = self._index[source], self._index[target]
        if s == t:
            return SeaGraphRoute(0.0, frozenset())
        # a tree kept for the destination serves too: the path, read backwards
        backwards = self._kept_tree(s, restrictions) is None and \
            self._kept_tree(t, restrictions) is not None
        root, leaf = (t, s) if backwards else (s, t)
        dist, pred = self._tree(root, restrictions)
        if not math.isfinite(float(dist[leaf])):
            if self._component[s] != self._component[t]:
                raise SeaGraphNoPath(f"No path between {source} and {target}.")
            return SeaGraphRoute(0.0, frozenset())
        path = [leaf]
        while path[-1] != root:
            path.append(int(pred[path[-1]]))
        path.reverse()  # root first
        if self._tied(path, dist, pred, self._without(restrictions)):
            return None
        if backwards:
            path.reverse()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            line, traversed = process_route([self._nodes[i] for i in path], self._marnet, True)
        length = float(distance_length(line, units="km"))
        names = Passage.filter_valid_passages(traversed or [])
        return SeaGraphRoute(length, frozenset(str(p) for p in names))

    @staticmethod
    def _tied(path: list[int], dist: npt.NDArray[np.float64], pred: npt.NDArray[np.int32],
              graph: _Restricted) -> bool:
        """Whether another simple path reaches the path's end at the same least weight.

        Every node checked (those of the path first) may be reached at its distance only from
        its parent in the tree or from a node of its own subtree across zero-weight edges (the
        graph has such edges between near-duplicate nodes and across the antimeridian); such a
        node is checked in turn. A simple path of least weight other than the tree's would have
        to enter some checked node from elsewhere.
        """
        root = path[0]
        nodes = np.asarray(path[1:], dtype=np.int64)
        starts, ends = graph.indptr[nodes], graph.indptr[nodes + 1]
        counts = ends - starts
        edges = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        heads = np.repeat(nodes, counts)
        tails = graph.indices[edges]
        slack = dist[tails] + graph.weights[edges] - dist[heads]
        if not np.any((slack < _TIGHT_KM) & (tails != pred[heads])):
            return False  # the common case: every path node reached only from its parent
        todo = path[1:]
        checked = set(todo)
        while todo:
            node = todo.pop()
            level = dist[node]
            lo, hi = int(graph.indptr[node]), int(graph.indptr[node + 1])
            neighbours = graph.indices[lo:hi]
            slack = dist[neighbours] + graph.weights[lo:hi] - level
            for other in neighbours[slack < _TIGHT_KM].tolist():
                if other == pred[node]:
                    continue
                below = other  # is `other` in the subtree of `node`, at the same distance?
                while below not in (node, root) and dist[below] == level:
                    below = int(pred[below])
                if below != node:
                    return True
                if other not in checked:
                    checked.add(other)
                    todo.append(other)
        return False
