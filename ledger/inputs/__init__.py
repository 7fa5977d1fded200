"""Shipment input: the model (shipments of ordered legs, product data) and its CSV and JSON
readers."""
