"""The console's static files, shipped inside the package (no internet fetch, no build step)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from control_api.console.render import STATIC
from control_api.errors import ApiError

router = APIRouter()
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".md": "text/plain; charset=utf-8"}
FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in TYPES}


@router.get("/console/static/{name}")
async def asset(name: str) -> FileResponse:
    path = FILES.get(name)
    if path is None:
        raise ApiError(404, "not_found", "no such file")
    # URLs carry the assets' digest (?v=...): a new release is a new URL, so a year of caching is safe.
    return FileResponse(
        path, media_type=TYPES[path.suffix], headers={"cache-control": "public, max-age=31536000, immutable"}
    )
