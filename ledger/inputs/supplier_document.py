"""The supplier-data document a shipment's actual emissions were read from.

When :func:`ledger.inputs.supplier_data.apply_supplier_data` gives a shipment the figures of an
installation's communication template (the Commission's "CBAM Communication template for
installations", an xlsx file), the shipment's production data name that file as
``production.supplier_document``: its file name, the SHA-256 of its bytes, the installation id
the importer gave it, the reporting period of its data and the template version read. The
record hash covers the reference like any other input, so an anchored figure names the file it
came from, and anyone holding the file can check it is that one (its SHA-256).

JSON form (keys of the shipments format)::

    "supplier_document": {
      "file_name": "haiyan-2025.xlsx",
      "sha256": "9f2c…64 hex digits",
      "installation_id": "CN-ZJ-HY-0001",
      "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
      "template_version": "2.1.1"
    }

Rules: a file name without folders (at most 255 characters), a SHA-256 of 64 lower-case hex
digits, a non-empty installation id that is the shipment's installation, a reporting period
that does not end before it starts; the template version is optional (a file may not say it).
Only actual data carry a supplier document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from ledger.inputs.consignment import Fields, parse_date_text

__all__ = [
    "SUPPLIER_DOCUMENT_KEYS",
    "SupplierDocument",
    "describe",
    "supplier_document_from_mapping",
]

SUPPLIER_DOCUMENT_KEYS = ("file_name", "sha256", "installation_id", "reporting_period",
                          "template_version")
_PERIOD_KEYS = ("start", "end")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_MAX_NAME = 255
_MAX_ID = 128


@dataclass(frozen=True)
class SupplierDocument:
    """A reference to the communication file a good's actual emissions were read from."""

    file_name: str
    sha256: str
    installation_id: str
    period_start: date
    period_end: date
    template_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file_name": self.file_name, "sha256": self.sha256,
            "installation_id": self.installation_id,
            "reporting_period": {"start": self.period_start.isoformat(),
                                 "end": self.period_end.isoformat()},
        }
        if self.template_version is not None:
            out["template_version"] = self.template_version
        return out


def describe(document: Mapping[str, Any]) -> str:
    """One line for people (reports, CLI) from the JSON form of a reference."""
    period = document.get("reporting_period") or {}
    version = document.get("template_version")
    return (f"{document.get('file_name')} (SHA-256 {document.get('sha256')}), installation "
            f"{document.get('installation_id')}, reporting period {period.get('start')} to "
            f"{period.get('end')}"
            + (f", template version {version}" if version else ", template version not stated"))


def _period(data: Any, f: Fields) -> tuple[date | None, date | None]:
    if not isinstance(data, Mapping):
        f.problem("reporting_period", "expected an object with start and end (YYYY-MM-DD)")
        return None, None
    p = f.nested(data, "reporting_period.")
    p.only(_PERIOD_KEYS)
    days: list[date | None] = []
    for key in _PERIOD_KEYS:
        text = data.get(key)
        found = parse_date_text(text) if isinstance(text, str) else \
            f"the reporting period's {key} is required (YYYY-MM-DD)"
        if isinstance(found, str):
            p.problem(key, found)
            days.append(None)
        else:
            days.append(found)
    start, end = days
    if start is not None and end is not None and end < start:
        p.problem("end", f"the reporting period ends ({end.isoformat()}) before it starts "
                  f"({start.isoformat()})")
        return None, None
    return start, end


def supplier_document_from_mapping(data: Any, f: Fields) -> SupplierDocument | None:
    """The reference of ``production.supplier_document`` (``f`` reads the production data);
    every bad field is a problem naming it."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        f.problem("supplier_document", "expected an object (file_name, sha256, "
                  "installation_id, reporting_period, template_version)")
        return None
    d = f.nested(data, "supplier_document.")
    d.only(SUPPLIER_DOCUMENT_KEYS)
    ok = True
    name = d.text("file_name")
    if name is None:
        d.problem("file_name", "the file name of the supplier-data document is required")
        ok = False
    elif "/" in name or "\\" in name or len(name) > _MAX_NAME:
        d.problem("file_name", f"{name!r} is not a file name: give the name only, without "
                  f"folders, at most {_MAX_NAME} characters")
        ok = False
    digest = d.text("sha256")
    if digest is None or not _SHA256.match(digest):
        d.problem("sha256", f"{digest!r} is not a SHA-256: 64 lower-case hex digits of the "
                  "file's bytes" if digest is not None else "the SHA-256 of the file is "
                  "required (64 lower-case hex digits)")
        ok = False
    installation_id = d.text("installation_id")
    if installation_id is None or len(installation_id) > _MAX_ID:
        d.problem("installation_id", "the installation id the document is of is required "
                  f"(at most {_MAX_ID} characters)")
        ok = False
    version = d.text("template_version")
    if version is not None and not _VERSION.match(version):
        d.problem("template_version", f"{version!r} is not a template version (e.g. 2.1.1)")
        ok = False
    start, end = _period(data.get("reporting_period"), d)
    if not ok or start is None or end is None or name is None or digest is None \
            or installation_id is None:
        return None
    return SupplierDocument(file_name=name, sha256=digest, installation_id=installation_id,
                            period_start=start, period_end=end, template_version=version)
