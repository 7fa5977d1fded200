"""The footprint engine (ISO 14083 / GLEC): per-leg and per-shipment emissions in whole grams."""
