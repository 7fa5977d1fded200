"""Shipment input: the model (shipments of ordered legs, product data), its CSV and JSON
readers, and the dispatcher that reads either file form."""
