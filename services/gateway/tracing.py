"""Every HTTP request: its id (`X-Request-ID`, also the correlation id of what it publishes), its
count and latency by route, and `X-Debug-Info` when asked for.

A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` runs each request through extra tasks
and streams, which cost more than a metrics push itself."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import correlation_id, new_correlation_id
from shared.telemetry import HTTP_LATENCY, HTTP_REQUESTS


class RequestTracing:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = headers.get("x-request-id") or new_correlation_id()
        debug = headers.get("x-debug", "").lower() == "true"
        started = time.perf_counter()
        status = 500

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                out = MutableHeaders(scope=message)
                out["X-Request-ID"] = request_id
                if debug:
                    out["X-Debug-Info"] = debug_info(scope, headers, request_id, started)
            await send(message)

        token = correlation_id.set(request_id)
        try:
            await self.app(scope, receive, traced_send)
        finally:
            correlation_id.reset(token)
            route = route_of(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


# Set by a handler that answers before FastAPI's router: the route it answered as.
ROUTE_PATH_KEY = "ecp.route_path"


def route_of(scope: Scope) -> str:
    path = scope.get(ROUTE_PATH_KEY)
    return path if path is not None else str(getattr(scope.get("route"), "path", "unmatched"))


def debug_info(scope: Scope, headers: Headers, request_id: str, started: float) -> str:
    info: dict[str, Any] = {
        "request_id": request_id,
        "route": route_of(scope),
        "duration_ms": round((time.perf_counter() - started) * 1e3, 2),
        "mode": "demo" if headers.get("x-demo-mode", "").lower() == "true" else "prod",
        "service": "gateway",
    }
    return json.dumps(info)
