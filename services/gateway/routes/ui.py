"""The operator web UI: `/` is its page, `/ui/...` its static assets (committed, no build step)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.gateway.errors import Problem

router = APIRouter(include_in_schema=False)
UI_ROOT = (Path(__file__).resolve().parent.parent / "ui").resolve()
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".ico": "image/x-icon",
}
# The browser revalidates every asset (ETag), so a new gateway never runs an old script.
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def asset_path(relative: str) -> Path | None:
    """The file under the UI folder that `relative` names, or None (missing, or outside it)."""
    candidate = (UI_ROOT / relative).resolve()
    if not candidate.is_relative_to(UI_ROOT) or not candidate.is_file():
        return None
    if candidate.suffix not in MEDIA_TYPES:
        return None
    return candidate


@router.get("/")
async def index() -> FileResponse:
    return FileResponse(UI_ROOT / "index.html", media_type=MEDIA_TYPES[".html"], headers=HEADERS)


@router.get("/ui/{relative:path}")
async def asset(relative: str) -> FileResponse:
    found = asset_path(relative)
    if found is None:
        raise Problem(404, "NOT_FOUND", f"no UI file {relative!r}")
    return FileResponse(found, media_type=MEDIA_TYPES[found.suffix], headers=HEADERS)
