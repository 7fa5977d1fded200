"""Emission-factor tables, factor sets and their identity, CBAM default values, and leg
distances."""
