"""Versioned, cited emission-factor tables and the factor-set manifests that name them.

This package holds data only; :mod:`ledger.factors.factorset` loads and validates it.
"""
