"""What kind of place a location reference names, for plausibility checks (not for distances).

:func:`place_kind` tells a sea port (a UN/LOCODE of the port list shipped with the ``searoute``
package, the list sea routing uses), an airport (an IATA code), another UN/LOCODE (an inland
place as far as the port list knows) and coordinates. UN/LOCODEs are compared without spaces
and in upper case (``CN NGB``, ``cnngb`` and ``CNNGB`` are one place). :func:`place_country`
gives the ISO 3166 country of a UN/LOCODE (its first two letters) or an airport (the
``airportsdata`` package); coordinates have none.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["place_country", "place_kind", "sea_port_codes"]

_IATA = re.compile(r"^[A-Z]{3}$")
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


@lru_cache(maxsize=1)
def sea_port_codes() -> frozenset[str]:
    """The UN/LOCODEs of the searoute port list (read once per process)."""
    from searoute.data.ports_dict import node_list

    return frozenset(str(p["port"]) for p in node_list.values() if p.get("port"))


def place_kind(text: str) -> str:
    """``sea_port``, ``airport``, ``locode`` (not a listed sea port), ``geo`` or ``unknown``."""
    if text.startswith("geo:"):
        return "geo"
    compact = text.replace(" ", "").upper()
    if _IATA.match(compact) and compact == text:
        return "airport"
    if _LOCODE.match(compact):
        return "sea_port" if compact in sea_port_codes() else "locode"
    return "unknown"


@lru_cache(maxsize=1)
def _airport_countries() -> dict[str, str]:
    import airportsdata

    return {code: str(a["country"]) for code, a in airportsdata.load("IATA").items()}


def place_country(text: str) -> str | None:
    """The ISO 3166 alpha-2 country of a place, or None when it cannot be told."""
    kind = place_kind(text)
    if kind == "airport":
        return _airport_countries().get(text)
    if kind in ("sea_port", "locode"):
        return text.replace(" ", "").upper()[:2]
    return None
