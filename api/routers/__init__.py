"""The service's routers, one per concept: auth, exporter, auditor, admin, PACT and pages."""
