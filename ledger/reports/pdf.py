"""The PDF of a report: its HTML page (:mod:`ledger.reports.html`) printed by headless Chromium.

:func:`render_pdf` writes the page into a private temporary folder and runs
``chromium --headless --print-to-pdf`` on it (no network: the page has no external resource),
with a throw-away profile, and returns the PDF's bytes. The page's print stylesheet sets A4 and
starts the summary, each shipment and the evidence appendix on a page of their own.

Chromium is the one the browser tests use (Debian's ``chromium`` package,
``scripts/install-chromium.sh``); :func:`find_chromium` looks for it on ``PATH``. A missing
browser, a failing print or an empty result is a ``LedgerError`` that says what to do.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["CHROMIUM_NAMES", "find_chromium", "render_pdf"]

#: Executable names tried on ``PATH``, in order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--disable-extensions", "--no-pdf-header-footer",
          "--run-all-compositor-stages-before-draw")


def find_chromium(explicit: str | Path | None = None) -> Path:
    """The Chromium executable: ``explicit`` if given, else the first of :data:`CHROMIUM_NAMES`
    on ``PATH``."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise LedgerError(f"Chromium not found at {path}")
        return path
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise LedgerError("PDF output needs headless Chromium, none found on PATH (tried "
                      f"{', '.join(CHROMIUM_NAMES)}); install Debian's chromium package "
                      "(scripts/install-chromium.sh) or pass its path")


def render_pdf(html: str, *, chromium: str | Path | None = None, timeout_s: float = 120.0
               ) -> bytes:
    """The PDF bytes of an HTML page, printed by headless Chromium (see the module docstring)."""
    browser = find_chromium(chromium)
    with tempfile.TemporaryDirectory(prefix="carbon-ledger-pdf-") as tmp:
        folder = Path(tmp)
        page, out = folder / "report.html", folder / "report.pdf"
        page.write_text(html, encoding="utf-8")
        command = [str(browser), *_FLAGS, f"--user-data-dir={folder / 'profile'}",
                   f"--print-to-pdf={out}", page.as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise LedgerError(f"Chromium did not print the report within {timeout_s:.0f} s") \
                from None
        except OSError as exc:
            raise LedgerError(f"Chromium ({browser}) cannot be started: {exc}") from None
        data = out.read_bytes() if out.is_file() else b""
        if done.returncode != 0 or not data.startswith(b"%PDF"):
            tail = (done.stderr or "").strip().splitlines()[-3:]
            raise LedgerError(f"Chromium ({browser}) did not print a PDF (exit "
                              f"{done.returncode}): {' | '.join(tail) or 'no message'}")
        return data
