"""`/docs/asyncapi`: every NATS subject, its message schema, who sends and who listens."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shared.topology import asyncapi_document, asyncapi_page

router = APIRouter(tags=["docs"])


@cache
def _document() -> dict[str, Any]:
    return asyncapi_document()


@router.get("/docs/asyncapi.json")
async def asyncapi_json() -> dict[str, Any]:
    return _document()


@router.get("/docs/asyncapi", response_class=HTMLResponse)
async def asyncapi_html() -> str:
    return asyncapi_page()
