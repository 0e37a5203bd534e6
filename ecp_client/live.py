"""The WebSocket streams, as plain iterators: live metrics of a tenant and the mode's events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote, urlencode

from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosedOK, InvalidStatus, WebSocketException
from websockets.sync.client import connect

from ecp_client.errors import ECPConnectionError, ECPError


def monitoring_url(ws_root: str, tenant_id: str) -> str:
    return f"{ws_root}/ws/monitoring/{quote(tenant_id, safe='')}"


def events_url(ws_root: str, tenant_id: str | None) -> str:
    query = urlencode({"tenant_id": tenant_id}) if tenant_id else ""
    return f"{ws_root}/ws/events" + (f"?{query}" if query else "")


def subscribe_message(tenant_id: str, metrics: list[str] | None) -> str | None:
    if not metrics:
        return None
    return json.dumps({"action": "subscribe", "tenant_id": tenant_id, "metrics": metrics})


def refused(error: Exception, url: str) -> ECPError:
    if isinstance(error, InvalidStatus):
        status = error.response.status_code
        return ECPError(
            status,
            "WEBSOCKET_REFUSED",
            f"{url.split('?')[0]} refused the connection (no or wrong API key for the mode, "
            "or an unknown tenant)",
        )
    return ECPConnectionError(f"{url.split('?')[0]}: {type(error).__name__}: {error}")


def stream(
    url: str,
    headers: dict[str, str],
    first: str | None = None,
    limit: int | None = None,
    idle_timeout: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Messages of one WebSocket until `limit` of them, `idle_timeout` s of silence, or close."""
    try:
        with connect(url, additional_headers=headers, open_timeout=10) as ws:
            if first:
                ws.send(first)
            count = 0
            while limit is None or count < limit:
                try:
                    text = ws.recv(timeout=idle_timeout)
                except TimeoutError:
                    return
                count += 1
                yield json.loads(text)
    except ConnectionClosedOK:
        return
    except (OSError, WebSocketException) as error:
        raise refused(error, url) from error


async def stream_async(
    url: str,
    headers: dict[str, str],
    first: str | None = None,
    limit: int | None = None,
    idle_timeout: float | None = None,
) -> AsyncIterator[dict[str, Any]]:

    try:
        async with connect_async(url, additional_headers=headers, open_timeout=10) as ws:
            if first:
                await ws.send(first)
            count = 0
            while limit is None or count < limit:
                try:
                    async with asyncio.timeout(idle_timeout):
                        text = await ws.recv()
                except TimeoutError:
                    return
                count += 1
                yield json.loads(text)
    except ConnectionClosedOK:
        return
    except (OSError, WebSocketException) as error:
        raise refused(error, url) from error
