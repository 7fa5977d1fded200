"""Signed reports: figures from records, PACT / iLEAP documents, the W3C VC envelope, CBAM data,
HTML."""
