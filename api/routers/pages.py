"""The web pages: plain HTML and JavaScript served as files, no build step."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str) -> FileResponse:
    return FileResponse(request.app.state.ctx.settings.static_dir / name,
                        media_type="text/html; charset=utf-8")


@router.get("/")
def index(request: Request) -> FileResponse:
    return _page(request, "index.html")


@router.get("/auditor")
def auditor(request: Request) -> FileResponse:
    """The auditor page: paste or upload a report, see the verdict check by check."""
    return _page(request, "auditor.html")


@router.get("/dashboard")
def dashboard(request: Request) -> FileResponse:
    """The exporter dashboard: shipments, anchoring, totals by month and mode, reports."""
    return _page(request, "dashboard.html")
