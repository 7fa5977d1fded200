"""Security headers on every answer: pages, static files, the API, its errors and the docs."""

from __future__ import annotations

import pytest
from api_fixtures import Service, offline_service

from api.headers import DOCS_POLICY, PAGE_POLICY

__all__ = ["offline_service"]
pytestmark = [pytest.mark.api]


@pytest.mark.parametrize(("method", "path", "policy"), [
    ("GET", "/", PAGE_POLICY),
    ("GET", "/dashboard", PAGE_POLICY),
    ("GET", "/auditor", PAGE_POLICY),
    ("GET", "/static/common.js", PAGE_POLICY),
    ("GET", "/health", PAGE_POLICY),
    ("GET", "/openapi.json", PAGE_POLICY),
    ("GET", "/v1/shipments", PAGE_POLICY),  # refused: no token
    ("POST", "/v1/shipments", PAGE_POLICY),  # refused before the body is read
    ("GET", "/no-such-page", PAGE_POLICY),
    ("GET", "/docs", DOCS_POLICY),
])
def test_security_headers(offline_service: Service, method: str, path: str, policy: str
                          ) -> None:
    answer = offline_service.client.request(method, path)
    assert answer.headers["content-security-policy"] == policy
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in policy


def test_the_page_policy_allows_no_inline_script(offline_service: Service) -> None:
    for page in ("/", "/dashboard", "/auditor"):
        html = offline_service.client.get(page).text
        assert "<script>" not in html and "<style" not in html  # scripts and styles are files
    assert "'unsafe-inline'" not in PAGE_POLICY
