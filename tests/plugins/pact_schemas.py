"""Validators over the official PACT OpenAPI documents and iLEAP schemas in ``tests/data``.

A definition is validated with the whole OpenAPI document's ``components`` beside it, so every
``$ref`` of the official text resolves as written (JSON Schema 2020-12, the OpenAPI 3.1
dialect; draft-07 for the iLEAP schemas). jsonschema-rs does the validation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

__all__ = ["DATA", "errors", "ileap_validator", "openapi", "pact_validator"]

DATA = Path(__file__).resolve().parents[1] / "data"
_FILES = {"2.3": "openapi-v2.3.3.yaml", "3.0.3": "openapi-v3.0.3.yaml",
          "3.0.4": "openapi-v3.0.4-conformance.yaml"}


@cache
def openapi(version: str) -> dict[str, Any]:
    """The official OpenAPI document of a PACT version ("2.3", "3.0.3" or "3.0.4")."""
    loaded: dict[str, Any] = yaml.safe_load((DATA / "pact" / _FILES[version]).read_text(
        encoding="utf-8"))
    return loaded


@cache
def pact_validator(version: str, definition: str = "ProductFootprint") -> Any:
    """A validator of ``components/schemas/<definition>`` of the PACT version."""
    doc = openapi(version)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$ref": f"#/components/schemas/{definition}",
              "components": doc["components"]}
    return jsonschema_rs.Draft202012Validator(schema)


@cache
def ileap_validator(name: str) -> Any:
    """A validator of an iLEAP schema file (``shipment-footprint.json`` ...).

    ``pcf-toc.json`` and ``pcf-hoc.json`` point their extension data at ``#/definitions/Toc`` /
    ``#/definitions/Hoc`` but define ``TOC`` / ``HOC``; the file is kept unmodified and the
    missing name is aliased in memory to the definition it means."""
    schema = json.loads((DATA / "ileap" / name).read_text(encoding="utf-8"))
    definitions = schema.get("definitions") or {}
    for alias in ("Toc", "Hoc"):
        if alias not in definitions and alias.upper() in definitions:
            definitions[alias] = definitions[alias.upper()]
    return jsonschema_rs.validator_for(schema)


def errors(validator: Any, instance: Any) -> list[str]:
    """Every deviation: ``<path>: <message>``."""
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}"
            for e in validator.iter_errors(instance)]
