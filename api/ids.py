"""Identifiers the service accepts: shipment ids (NFC-normalised, from a documented set of
characters) and the other ids of paths and bodies (no control characters or lone surrogates).

A shipment id is taken in Unicode NFC form (so the composed and decomposed spellings of "café"
are one id), 1 to 128 characters, made of letters, marks, digits, punctuation, symbols and the
ASCII space (Unicode categories L*, M*, N*, P*, S* and U+0020). Refused, with 422 naming the
field: control characters (NUL included), format characters (zero-width and bidirectional
marks), unpaired surrogates, private-use and unassigned code points, and separators other than
the ASCII space.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator

from ledger.errors import InputError, InputProblem

__all__ = ["MAX_ID", "OtherId", "ShipmentIdIn", "id_problem", "normal_shipment_id",
           "normalise_submitted_ids", "shown", "string_problems"]

MAX_ID = 128
_ALLOWED_CLASSES = frozenset("LMNPS")


def shown(text: str) -> str:
    """``text`` as it may be written into an answer: anything unprintable escaped."""
    return text.encode("ascii", "backslashreplace").decode() if not text.isprintable() \
        or _has_surrogate(text) else text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= c <= "\udfff" for c in text)


def _char_problem(char: str) -> str | None:
    if char == " ":
        return None
    category = unicodedata.category(char)
    if category[0] in _ALLOWED_CLASSES:
        return None
    what = {"Cc": "a control character", "Cf": "a format (invisible) character",
            "Cs": "an unpaired surrogate", "Co": "a private-use character",
            "Cn": "an unassigned code point"}.get(category, "a separator other than the space")
    return f"{what} (U+{ord(char):04X})"


def id_problem(sid: str) -> str | None:
    """Why ``sid`` (already NFC) is not a valid shipment id, or None."""
    if not sid.strip():
        return "shipment_id is required (non-empty text)"
    if len(sid) > MAX_ID:
        return f"shipment_id is longer than {MAX_ID} characters"
    for char in sid:
        problem = _char_problem(char)
        if problem is not None:
            return (f"shipment_id contains {problem}: use letters, digits, punctuation, "
                    "symbols and spaces")
    return None


def _nfc(text: str) -> str:
    if _has_surrogate(text):  # normalize() cannot take them; id_problem names them
        return text
    return unicodedata.normalize("NFC", text)


def normal_shipment_id(value: str) -> str:
    """The NFC form of a shipment id given in a request; ValueError naming the problem."""
    sid = _nfc(value).strip()
    problem = id_problem(sid)
    if problem is not None:
        raise ValueError(problem)
    return sid


def _plain_id(value: str) -> str:
    if _has_surrogate(value) or any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("the id contains a control character or an unpaired surrogate")
    return value


#: A shipment id in a path or a request body (NFC, checked).
ShipmentIdIn = Annotated[str, AfterValidator(normal_shipment_id)]
#: Any other id in a path (a job, a report, a footprint): no control characters or surrogates.
OtherId = Annotated[str, AfterValidator(_plain_id)]


def string_problems(data: Any, path: str = "", found: list[str] | None = None) -> list[str]:
    """Fields (dotted paths) of a parsed JSON document whose text has an unpaired surrogate
    (valid JSON escapes, but not text: it cannot be stored or hashed)."""
    found = [] if found is None else found
    if len(found) >= 20:
        return found
    if isinstance(data, str):
        if _has_surrogate(data):
            found.append(path or "(the document)")
    elif isinstance(data, dict):
        for key, value in data.items():
            name = shown(str(key))
            if _has_surrogate(str(key)):
                found.append(f"{path}.{name}" if path else name)
            string_problems(value, f"{path}.{name}" if path else name, found)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            string_problems(value, f"{path}[{i}]", found)
    return found


def normalise_submitted_ids(data: Any) -> None:
    """Puts the shipment ids of a submitted JSON document (``{"shipments": [...]}`` or a list)
    in NFC form, in place; InputError (422) naming each refused id's row and field."""
    items = data.get("shipments") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return
    problems = []
    for row, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("shipment_id"), str):
            continue
        sid = _nfc(item["shipment_id"]).strip()
        problem = id_problem(sid)
        if problem is not None and sid:
            problems.append(InputProblem(problem, shown(sid), row, "shipment_id"))
        item["shipment_id"] = sid
    if problems:
        raise InputError(problems)
