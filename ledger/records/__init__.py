"""Canonical records, their keccak-256 hashes, Merkle batches, and many records built at once."""
