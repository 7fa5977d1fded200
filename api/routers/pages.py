"""The web pages: plain HTML and JavaScript served as files, no build step."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.deps import Context

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _page(ctx: Context, name: str) -> FileResponse:
    return FileResponse(ctx.settings.static_dir / name,
                        media_type="text/html; charset=utf-8")


@router.get("/")
def index(ctx: Context) -> FileResponse:
    return _page(ctx, "index.html")


@router.get("/auditor")
def auditor(ctx: Context) -> FileResponse:
    """The auditor page: paste or upload a report, see the verdict check by check."""
    return _page(ctx, "auditor.html")


@router.get("/dashboard")
def dashboard(ctx: Context) -> FileResponse:
    """The exporter dashboard: shipments, anchoring, totals by month and mode, reports."""
    return _page(ctx, "dashboard.html")


@router.get("/importer")
def importer(ctx: Context) -> FileResponse:
    """The importer page: consignments naming its EORI, the 50 t tally, the declaration's totals
    by CN code and origin, cost on default vs actual values, the signed download."""
    return _page(ctx, "importer.html")
