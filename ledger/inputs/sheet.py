"""Reading a spreadsheet's CSV export as text cells: separator, encoding, header, numbers.

The first stage of :func:`ledger.inputs.csvreader.read_csv_frame` (which then parses and
validates the cells), kept apart because it is about the file, not the shipments:

- the separator (comma, semicolon or tab) is the one that splits the header row into the most
  known column names, or the one named; none yields a known column: an error quoting the row;
- the encoding is UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
  GB18030 (covering GBK and GB2312), checked on the first 64 KiB and, when UTF-8 fails later in
  the file, retried as GB18030; any other encoding must be named (an error names the byte);
- column names are matched regardless of case, surrounding spaces and inner spaces or hyphens
  (:func:`column_key`); named extra columns are left out unread; an empty-named column with no
  value (a stray separator) is dropped;
- a decimal comma or a thousands separator in a number is named with the value to write
  (:func:`comma_problem`); a number is never guessed.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ledger.errors import InputError, InputProblem
from ledger.inputs.frame import GOODS_COLUMNS, LEG_COLUMNS, REQUIRED_COLUMNS

__all__ = [
    "ENCODINGS",
    "KNOWN_COLUMNS",
    "SEPARATORS",
    "code_of",
    "column_key",
    "comma_problem",
    "header_problems",
    "read_table",
]

_SPACES = re.compile(r"[\s-]+")


def code_of(text: str) -> str:
    """A code of a fixed lower-case vocabulary, regardless of case and spacing."""
    return _SPACES.sub("_", text.strip().lower())


_DECIMAL_COMMA = re.compile(r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+),[0-9]+")
_THOUSANDS = re.compile(r"-?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")


def comma_problem(text: str) -> str | None:
    """What to say of a number written with a decimal comma or a thousands separator."""
    stripped = text.strip()
    if _THOUSANDS.fullmatch(stripped):
        return (f"{stripped!r} has a thousands separator; write the number without it "
                f"({stripped.replace(',', '')})")
    if _DECIMAL_COMMA.fullmatch(stripped):
        plain = stripped.replace(".", "").replace(",", ".")
        return f"{stripped!r} has a decimal comma; write a decimal point ({plain})"
    return None


#: The separators a file may use, by name.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
#: Encodings a file may be named to have (``encoding=``), besides what is detected.
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk", "gb2312", "big5", "latin-1",
             "cp1252")
_HEAD_BYTES = 1 << 16
KNOWN_COLUMNS = frozenset((*LEG_COLUMNS, *GOODS_COLUMNS))


def column_key(name: str) -> str:
    """The column a header cell names: case, surrounding spaces and inner spaces or hyphens
    do not matter (``" Mass kg"`` -> ``mass_kg``)."""
    return _SPACES.sub("_", name.strip().lstrip("\ufeff").strip().lower())


def _decodes(head: bytes, encoding: str) -> int | None:
    """None when ``head`` (maybe cut inside a character) decodes, else the failing offset."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _encoding(path: Path, head: bytes, named: str | None) -> str:
    """The encoding to read ``path`` with (see the module docstring)."""
    if named is not None:
        try:
            return codecs.lookup(named).name
        except LookupError:
            raise InputError([InputProblem(
                f"unknown encoding {named!r}; expected one of {', '.join(ENCODINGS)}",
                field="encoding")]) from None
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    failed = _decodes(head, "utf-8")
    if failed is None:
        return "utf-8"
    if _decodes(head, "gb18030") is None:
        return "gb18030"
    raise InputError(_encoding_message(path, failed, head[failed:failed + 4]))


def _encoding_message(path: Path, offset: int | None, sample: bytes) -> str:
    where = "" if offset is None else f" (byte {offset}: 0x{sample.hex()})"
    return (f"{path}: the text is neither UTF-8 nor GB18030{where}; save the sheet as "
            "'CSV UTF-8', or name its encoding (--encoding, e.g. utf-16 or cp1252)")


def _separator(path: Path, head_text: str, named: str | None) -> str:
    """The separator of the header row: the one that splits it into the most known columns."""
    if named is not None:
        by_name = {v: k for k, v in SEPARATORS.items()}
        sep = by_name.get(named.lower(), named.replace("\\t", "\t"))
        if sep not in SEPARATORS:
            raise InputError([InputProblem(
                f"unknown separator {named!r}; expected comma, semicolon or tab",
                field="separator")])
        return sep
    header = head_text.lstrip("\ufeff").splitlines()[0] if head_text.strip() else ""
    best, best_known = ",", 0
    for sep in SEPARATORS:
        cells = next(csv.reader([header], delimiter=sep), [])
        known = sum(column_key(c) in KNOWN_COLUMNS for c in cells)
        if known > best_known:
            best, best_known = sep, known
    if best_known == 0:
        shown = header if len(header) <= 80 else header[:77] + "..."
        raise InputError([InputProblem(
            f"{path}: the first row {shown!r} names no known column with a comma, semicolon or "
            "tab between them; the first row must be the header (shipment_id, leg, mode, "
            "mass_kg, ...)", row=1)])
    return best


def read_table(path: Path, separator: str | None, encoding: str | None,
               ignore: frozenset[str], dtypes: Mapping[str, Any],
               ) -> tuple[pd.DataFrame, list[str]]:
    """The file's cells as text (``dtypes`` by column name: how the reader wants each known
    column), and the names of the columns ignored."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read as CSV: {exc}") from exc
    chosen = _encoding(path, head, encoding)
    head_text = head.decode(chosen, errors="replace")
    sep = _separator(path, head_text, separator)
    header = head_text.lstrip("\ufeff").splitlines()[0] if head_text.strip() else ""
    # the reader's types by the names the file writes (e.g. "Mode" is read as mode)
    types = {cell: dtypes[column_key(cell)]
              for cell in next(csv.reader([header], delimiter=sep), [])
              if column_key(cell) in dtypes}
    dropped: list[str] = []

    def use(name: str) -> bool:
        if column_key(name) in ignore:
            if name not in dropped:
                dropped.append(str(name))
            return False
        return True

    attempts = [chosen] if encoding is not None or chosen != "utf-8" else ["utf-8", "gb18030"]
    for attempt in attempts:
        dropped.clear()
        try:
            df = pd.read_csv(path, sep=sep, dtype=types, keep_default_na=False,
                             na_filter=False, encoding=attempt, skip_blank_lines=True,
                             usecols=use if ignore else None)
            break
        except UnicodeDecodeError as exc:
            if attempt == attempts[-1]:
                raise InputError(f"{_encoding_message(path, None, b'')} ({exc.reason})"
                                 ) from exc
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"{path}: cannot be read as CSV "
                             f"({SEPARATORS[sep]}-separated, {attempt}): {exc}") from exc
    return df, dropped
def header_problems(df: pd.DataFrame, ignore: frozenset[str]) -> list[InputProblem]:
    """Names the file's columns by :func:`column_key` (in place, when there is no problem);
    unknown, repeated and missing columns. A column with an empty header cell is dropped when
    its cells are empty too (a sheet's stray separator)."""
    problems: list[InputProblem] = []
    keep: list[Any] = []
    names: list[str] = []
    for position, raw in enumerate(df.columns, start=1):
        text = str(raw)
        if text.startswith("Unnamed: "):
            if (df[raw].astype(str).str.strip() != "").any():
                problems.append(InputProblem(
                    f"column {position} has values but no name in the header row", None, 1,
                    None))
            continue
        keep.append(raw)
        names.append(column_key(text))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(InputProblem(f"column {name!r} appears more than once in the header",
                                         None, 1, name))
        seen.add(name)
        if name not in KNOWN_COLUMNS and name not in ignore:
            close = difflib.get_close_matches(name, sorted(KNOWN_COLUMNS), n=1, cutoff=0.75)
            hint = (f"; did you mean {close[0]!r}?" if close
                    else "; leave an extra column out with --ignore-column NAME")
            problems.append(InputProblem(f"unknown column {name!r}{hint}", None, 1, name))
    for column in REQUIRED_COLUMNS:
        if column not in seen:
            problems.append(InputProblem(f"required column {column!r} is missing", None, 1,
                                         column))
    if not problems:
        if len(keep) != len(df.columns):
            df.drop(columns=[c for c in df.columns if c not in keep], inplace=True)
        df.columns = pd.Index(names)
    return problems
