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
from collections.abc import Callable, Iterable
from typing import Annotated, Any
from urllib.parse import unquote, unquote_to_bytes

from confusable_homoglyphs import confusables
from pydantic import AfterValidator, BeforeValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from ledger.errors import InputError, InputProblem

__all__ = ["MAX_ID", "EncodedIdPaths", "OtherId", "ShipmentIdIn", "ShipmentIdPath",
           "confusable_warnings", "id_problem", "lookalike", "normal_shipment_id",
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


#: A shipment id in a request body (NFC, checked).
ShipmentIdIn = Annotated[str, AfterValidator(normal_shipment_id)]
#: A shipment id in a path segment, as :class:`EncodedIdPaths` hands it on (NFC, checked).
ShipmentIdPath = Annotated[str, BeforeValidator(lambda v: unquote(v) if isinstance(v, str)
                                                else v),
                           AfterValidator(normal_shipment_id)]

#: Paths whose next segment is a shipment id (a slash in the id is sent as ``%2F``).
_ID_PATHS = (b"/v1/shipments/",)


def _escaped_segment(raw: bytes) -> str:
    """A raw path segment decoded (percent escapes, UTF-8; bytes that are not UTF-8 become
    lone surrogates, which the id check refuses), with ``%`` and ``/`` escaped again."""
    text = unquote_to_bytes(raw).decode("utf-8", errors="surrogateescape")
    return text.replace("%", "%25").replace("/", "%2F")


class EncodedIdPaths:
    """Keeps a shipment id with a slash one path segment: under ``/v1/shipments/``, the route
    path is rebuilt from the raw path with ``%`` and ``/`` inside each segment still escaped,
    and :data:`ShipmentIdPath` unescapes the id. So ``/v1/shipments/NB%2F1/proof`` is the proof
    of shipment ``NB/1``, and ``/v1/shipments/NB/1/proof`` names no route (404)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
            root = scope.get("root_path", "").encode()
            if root and raw.startswith(root):
                raw = raw[len(root):]
            for prefix in _ID_PATHS:
                if raw.startswith(prefix) and len(raw) > len(prefix):
                    rest = raw[len(prefix):].split(b"/")
                    path = prefix.decode() + "/".join(_escaped_segment(p) for p in rest)
                    scope = {**scope, "path": scope.get("root_path", "") + path}
                    break
        await self.app(scope, receive, send)


def lookalike(sid: str) -> str | None:
    """The plain form an id looks like, when it holds characters of another script that look
    like Latin letters or digits (``NВ-1`` with a Cyrillic В looks like ``NB-1``) or
    compatibility forms (full-width ``Ｎ``); None for an id without such characters.

    Look-alikes are those of the Unicode confusables data (UTS #39), through the
    ``confusable-homoglyphs`` package."""
    if sid.isascii():
        return None
    plain = unicodedata.normalize("NFKC", sid)
    found = confusables.is_confusable(plain, greedy=True, preferred_aliases=["latin", "common"])
    for hit in found or []:
        latin = [h["c"] for h in hit["homoglyphs"] if h["c"].isascii()]
        if latin:
            plain = plain.replace(hit["character"], latin[0])
    return None if plain == sid else plain


def confusable_warnings(ids: Iterable[str], stored: Callable[[list[str]], set[str]]
                        ) -> list[dict[str, str]]:
    """A warning for each id that looks like a plain-letter id (see :func:`lookalike`), saying
    which stored or submitted shipment it may be mistaken for; ``stored(ids)`` names those of
    ``ids`` that the organisation holds already."""
    ids = list(ids)
    looks = {sid: plain for sid in ids if (plain := lookalike(sid)) is not None}
    if not looks:
        return []
    held = stored(sorted(set(looks.values()))) | set(ids)
    out = []
    for sid, plain in looks.items():
        message = (f"shipment_id {shown(sid)!r} holds characters that look like others "
                   f"(it reads as {shown(plain)!r})")
        if plain in held:
            message += f" and may be mistaken for the shipment {shown(plain)!r}"
        out.append({"shipment_id": sid, "field": "shipment_id",
                    "message": message + ": check it is the id you mean"})
    return out
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
