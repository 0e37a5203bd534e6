"""Small helpers to talk to a running system the way a user does."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import websockets


def tenant_id(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def headers(demo: bool, key: str | None = None) -> dict[str, str]:
    values = {"X-Demo-Mode": "true" if demo else "false"}
    if key:
        values["Authorization"] = f"Bearer {key}"
    return values


def tenant_body(tid: str, **requirements: int) -> dict[str, Any]:
    return {
        "tenant_id": tid,
        "name": f"Tenant {tid}",
        "service_requirements": requirements or {"chatbot": 10},
        "sla_target": {"availability": "99.9%", "response_time": "200ms"},
    }


def ws_url(base_url: str, path: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return base_url.replace("http://", "ws://") + path + (f"?{query}" if query else "")


async def next_event(
    ws: websockets.ClientConnection, name: str, timeout: float = 20
) -> dict[str, Any]:
    """The first event called `name`, skipping others."""
    async with __import__("asyncio").timeout(timeout):
        while True:
            message = json.loads(await ws.recv())
            if message["event"] == name:
                return dict(message)


def client(base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base_url, timeout=30)
