"""Browser tests: Debian's Chromium, headless, driven by Playwright, against the live service.

Chromium comes from ``scripts/install-chromium.sh`` (apt-get); where ``/usr/bin/chromium`` is
missing, these tests are skipped with that reason (the test tier summary lists them).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_fixtures import EXAMPLES, LiveServer, ServiceChain, chain_app, make_service, service_chain

__all__ = ["service_chain"]
pytestmark = [pytest.mark.browser, pytest.mark.api]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
DEMO = json.loads((EXAMPLES / "demo-shipments.json").read_text(encoding="utf-8"))
IDS = [s["shipment_id"] for s in DEMO["shipments"]]


@dataclass
class Site:
    url: str
    exporter: Any
    auditor: Any
    newcomer: Any
    report: Path
    tampered: Path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"BROWSER TIER SKIPPED: {CHROMIUM} is missing; run "
                    "scripts/install-chromium.sh (as root) to install Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, service_chain: ServiceChain) -> Iterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    service = make_service(chain_app(tmp, service_chain), service_chain.node)
    try:
        exporter, auditor = service.org("Ningbo", "exporter"), service.org("Audit", "auditor")
        newcomer = service.org("Yiwu", "exporter")
        for who in (exporter, newcomer):
            service.client.post("/v1/shipments", json=DEMO, headers=service.auth(who))
        job = service.client.post("/v1/anchoring", headers=service.auth(exporter)).json()
        assert service.wait_job(exporter, job["id"])["state"] == "done"
        made = service.client.post("/v1/reports", json={
            "shipment_ids": IDS, "first_day": "2026-01-01", "last_day": "2026-03-31"},
            headers=service.auth(exporter)).json()
        report = made["report"]
        tampered = copy.deepcopy(report)
        tce = tampered["credentialSubject"]["productFootprints"][0]["extensions"][0]["data"]
        tce["tces"][0]["co2eWTW"] = "1.5"
        (tmp / "report.json").write_text(json.dumps(report), encoding="utf-8")
        (tmp / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
        with LiveServer(service.app) as server:
            yield Site(server.url, exporter, auditor, newcomer, tmp / "report.json",
                       tmp / "tampered.json")
    finally:
        service.client.close()
        service.ctx.close()


def _sign_in(page: Any, url: str, made: Any) -> None:
    page.goto(url)
    page.fill("#signin-form input[name=client_id]", made.client_id)
    page.fill("#signin-form input[name=client_secret]", made.client_secret)
    page.click("#signin-form button")
    page.wait_for_selector("#signin-form .status:has-text('signed in')")


def test_auditor_page_shows_a_valid_report_passing(browser: Any, site: Site) -> None:
    page = browser.new_page()
    try:
        _sign_in(page, site.url + "/auditor", site.auditor)
        page.set_input_files("#report-file", str(site.report))
        page.click("#verify-button")
        page.wait_for_selector("#verdict.ok")
        assert page.inner_text("#verdict") == "VERIFIED"
        assert page.get_attribute("#checks tr[data-check=signature]", "class") == "pass"
        assert page.get_attribute("#checks tr[data-check=recompute]", "class") == "pass"
        assert page.locator("#chart svg rect").count() >= 2 * 4  # TTW and WTT bars per leg
        assert page.locator("#chain-objects tbody tr").count() == len(IDS)
        assert not page.is_disabled("#attest-button")
    finally:
        page.close()


def test_auditor_page_names_the_failed_check_of_a_tampered_report(browser: Any, site: Site
                                                                  ) -> None:
    page = browser.new_page()
    try:
        _sign_in(page, site.url + "/auditor", site.auditor)
        page.set_input_files("#report-file", str(site.tampered))
        page.click("#verify-button")
        page.wait_for_selector("#verdict.bad")
        assert page.inner_text("#verdict").startswith("NOT VERIFIED: ")
        assert "signature" in page.inner_text("#verdict")
        assert page.get_attribute("#checks tr[data-check=signature]", "class") == "fail"
        assert page.is_disabled("#attest-button")
    finally:
        page.close()


def test_dashboard_shows_the_exporters_shipments(browser: Any, site: Site) -> None:
    page = browser.new_page()
    try:
        _sign_in(page, site.url + "/dashboard", site.exporter)
        page.wait_for_selector("#shipments tbody tr")
        rows = page.locator("#shipments tbody tr")
        assert sorted(rows.nth(i).get_attribute("data-shipment")
                      for i in range(rows.count())) == sorted(IDS)
        assert page.inner_text(f"#shipments tr[data-shipment='{IDS[0]}'] td:nth-child(2)") \
            == "final"
        assert page.locator("#month-chart svg rect").count() >= 1
        page.wait_for_selector("#reports tbody tr")
    finally:
        page.close()


def test_dashboard_anchors_with_progress(browser: Any, site: Site) -> None:
    page = browser.new_page()
    try:
        _sign_in(page, site.url + "/dashboard", site.newcomer)
        page.wait_for_selector(f"#shipments tr[data-shipment='{IDS[0]}']")
        assert page.inner_text(f"#shipments tr[data-shipment='{IDS[0]}'] td:nth-child(2)") \
            == "pending"
        page.click("#anchor-button")
        page.wait_for_selector("#anchor-status:has-text('anchored 4 shipment(s)')",
                               timeout=60000)
        assert page.is_visible("#anchor-progress")
        page.wait_for_selector(f"#shipments tr[data-shipment='{IDS[0]}'] td:text('final')")
    finally:
        page.close()


def test_pages_keep_to_their_content_security_policy(browser: Any, site: Site) -> None:
    import httpx

    token = httpx.post(site.url + "/auth/token", data={"grant_type": "client_credentials"},
                       auth=(site.exporter.client_id, site.exporter.client_secret)
                       ).json()["access_token"]
    bearer = {"authorization": f"Bearer {token}"}
    report_id = httpx.get(site.url + "/v1/reports", headers=bearer).json()["reports"][0]["id"]
    context = browser.new_context()
    refused: list[str] = []
    context.on("console", lambda message: refused.append(message.text)
               if "Content Security Policy" in message.text else None)
    page = context.new_page()
    try:
        for path in ("/", "/auditor"):
            response = page.goto(site.url + path)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert response.headers["x-frame-options"] == "DENY"
        _sign_in(page, site.url + "/dashboard", site.exporter)
        page.wait_for_selector("#month-chart svg rect")
        page.wait_for_selector("#reports tbody tr")
        report = context.new_page()
        report.set_extra_http_headers(bearer)
        response = report.goto(f"{site.url}/v1/reports/{report_id}/html")
        assert response.status == 200
        assert "default-src 'none'" in response.headers["content-security-policy"]
        # the inline stylesheet applies: the report's tables have collapsed borders
        assert report.evaluate("getComputedStyle(document.querySelector('table'))"
                               ".borderCollapse") == "collapse"
        report.close()
    finally:
        context.close()
    assert refused == []
