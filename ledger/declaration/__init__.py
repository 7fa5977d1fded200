"""The EU importer's annual CBAM declaration (definitive period), provable from anchored
consignments.

- :func:`compute_declaration`: a store + a declarant EORI + a calendar year (+ options) -> the
  declaration dataset (lines per CN code, origin, installation, data type and verifier;
  embedded emissions, free-allocation adjustment, certificates, cost, the 50 t threshold, the
  cost forecast on default values), every consignment with its record hash and Merkle proof;
- :func:`issue_declaration`: the dataset signed in the report envelope (W3C VC + EIP-712);
- verification: :func:`ledger.verify.declaration.verify_declaration`.

The tables (benchmarks, CBAM factors, certificate prices) are data of the factor set
(:mod:`ledger.declaration.tables`); the field list is in ``docs/declaration.md``.
"""

from ledger.declaration.build import (
    DECLARATION_MANIFEST,
    Declaration,
    compute_declaration,
    declaration_factor_set,
    issue_declaration,
)
from ledger.declaration.document import DECLARATION_TYPE
from ledger.declaration.options import CarbonPriceClaim, DeclarationOptions

__all__ = [
    "DECLARATION_MANIFEST",
    "DECLARATION_TYPE",
    "CarbonPriceClaim",
    "Declaration",
    "DeclarationOptions",
    "compute_declaration",
    "declaration_factor_set",
    "issue_declaration",
]
