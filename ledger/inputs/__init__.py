"""Shipment input: the model (shipments of ordered legs, product data, consignment and
installation data), its CSV and JSON readers, and the dispatcher that reads either file form."""
