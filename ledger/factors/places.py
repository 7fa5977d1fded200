"""What kind of place a location reference names, for plausibility checks (not for distances).

:func:`place_kind` tells a sea port (a UN/LOCODE of the port list shipped with the ``searoute``
package, the list sea routing uses), an airport (an IATA code), another UN/LOCODE (an inland
place as far as the port list knows) and coordinates. UN/LOCODEs are compared without spaces
and in upper case (``CN NGB``, ``cnngb`` and ``CNNGB`` are one place).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["place_kind", "sea_port_codes"]

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
