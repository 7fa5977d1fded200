"""Command modules of the ``carbon-ledger`` CLI; each exposes ``register(app)``."""

__all__: list[str] = []
