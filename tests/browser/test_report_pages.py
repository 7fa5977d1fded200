"""The printed report in Debian's headless Chromium: the 4-shipment demo report's PDF (summary on
page 1, at most one page per shipment, the evidence appendix after them) and a screenshot of
the summary as printed on A4.

Chromium comes from ``scripts/install-chromium.sh``; where ``/usr/bin/chromium`` is missing,
these tests are skipped with that reason (the test tier summary lists them).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_report_fixtures import engine_report

from ledger.reports.html import render_html
from ledger.reports.pdf import render_pdf

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
DEMO_IDS = ["NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001", "HY-FAST-2026-0001"]
#: The printable area of A4 at CSS 96 px per inch: 210 x 297 mm less the page margins of
#: ``report.css`` (12 mm left and right, 12 mm top, 14 mm bottom): 186 x 271 mm.
PRINTABLE_PX = (703, 1024)


def _need_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"BROWSER TIER SKIPPED: {CHROMIUM} is missing; run "
                    "scripts/install-chromium.sh (as root) to install Debian's chromium")


@pytest.fixture(scope="module")
def demo_page() -> str:
    return render_html(engine_report("demo-shipments.json"), report_file="demo.json")


def test_the_demo_reports_pdf_has_the_summary_first_and_one_page_per_shipment(
        demo_page: str) -> None:
    _need_chromium()
    from pypdf import PdfReader

    pdf = render_pdf(demo_page, chromium=CHROMIUM)
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    width, height = (float(v) for v in PdfReader(io.BytesIO(pdf)).pages[0].mediabox[2:])
    print(f"\ndemo report PDF: {len(pages)} pages ({width:.0f} x {height:.0f} pt), "
          f"{len(pdf):,} bytes")
    assert (round(width), round(height)) == (595, 842)  # A4
    summary = " ".join(pages[0].split())
    assert summary.startswith("Carbon footprint report")
    for wanted in ("Exporter", "Buyer / importer", "Reporting period", "Grand total",
                   "Share of primary data", *DEMO_IDS):
        assert wanted in summary, wanted
    # each shipment starts a page and ends before the next page's heading: one page each
    for number, shipment_id in enumerate(DEMO_IDS, start=1):
        assert pages[number].lstrip().startswith(f"Shipment {shipment_id}"), pages[number][:80]
    assert pages[len(DEMO_IDS) + 1].lstrip().startswith("Evidence appendix")
    assert sum("Evidence appendix" in p for p in pages) == 1
    assert len(pages) <= 1 + len(DEMO_IDS) + 2  # the appendix takes at most two pages


def test_a_nine_shipment_report_still_has_its_summary_on_one_page() -> None:
    _need_chromium()
    from pypdf import PdfReader

    document = engine_report("demo-shipments.json", "cbam-consignments-2026.json")
    ids = document["credentialSubject"]["shipmentIds"]
    assert len(ids) == 9
    pdf = render_pdf(render_html(document), chromium=CHROMIUM)
    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]
    print(f"\nnine-shipment report PDF: {len(pages)} pages")
    assert "Share of primary data" in pages[0]
    for number, shipment_id in enumerate(ids, start=1):
        assert pages[number].lstrip().startswith(f"Shipment {shipment_id}"), pages[number][:80]
    assert pages[len(ids) + 1].lstrip().startswith("Evidence appendix")


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking"])
        try:
            yield launched
        finally:
            launched.close()


def test_a_screenshot_of_the_printed_summary_fits_one_a4_page(
        browser: Any, demo_page: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": PRINTABLE_PX[0], "height": PRINTABLE_PX[1]})
    try:
        page.emulate_media(media="print")
        page.set_content(demo_page)
        summary = page.locator("section.summary")
        shot = summary.screenshot(path=str(tmp_path / "summary.png"))
        width, height = _png_size(shot)
        print(f"\nsummary screenshot: {width} x {height} px "
              f"(printable A4 {PRINTABLE_PX[0]} x {PRINTABLE_PX[1]})")
        assert 0 < height <= PRINTABLE_PX[1] and width <= PRINTABLE_PX[0]
        # nothing wider than the page, so the print is not shrunk to fit
        assert page.evaluate("document.documentElement.scrollWidth") <= PRINTABLE_PX[0]
        # what a reader sees first: the heading, the grand total and every shipment
        text = summary.inner_text()
        assert text.startswith("Carbon footprint report")
        assert all(shipment_id in text for shipment_id in DEMO_IDS)
        grand = page.locator("tr.grand")
        assert grand.is_visible() and "Grand total" in grand.inner_text()
        box = grand.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PRINTABLE_PX[1]
        # the shipments start below the summary, not beside it
        first = page.locator("section.shipment").first.bounding_box()
        assert first is not None and first["y"] >= height
    finally:
        page.close()
