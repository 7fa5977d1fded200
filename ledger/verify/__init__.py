"""Verification of a signed report against the chain, and the auditor's attestation."""
