"""Anchoring: footprints -> canonical records -> batches -> chain, through a crash-safe outbox;
proofs read back."""
