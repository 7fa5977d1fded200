"""Revisions of the service's tables, oldest first."""
