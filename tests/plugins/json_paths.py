"""Paths to every leaf of a JSON document, for tamper tests that change one leaf at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["leaf_paths"]


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path (keys and list indices) of each leaf of ``value``, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))
    else:
        yield path
