"""Reading an HTTP answer the same way in both clients: JSON, text, or an ECPError."""

from __future__ import annotations

from typing import Any

import httpx

from ecp_client.calls import Call
from ecp_client.errors import ECPConnectionError, ECPError, problem_of

MANIFEST_NOT_READY = "MANIFEST_NOT_READY"
RETRY_SECONDS = 0.25
# A service that did not answer in time (a restart, a cold start) is asked again this often,
# after these pauses, for calls without side effects.
BUSY_STATUSES = (503, 504)
BUSY_PAUSES = (0.5, 2.0)


def busy(call: Call, response: httpx.Response) -> bool:
    return call.retryable and response.status_code in BUSY_STATUSES


def request_args(call: Call, root: str, api: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "method": call.method,
        "url": (root if call.root else api) + call.path,
        "params": call.params or None,
    }
    if call.body is not None:
        args["json"] = call.body
    return args


def read(call: Call, response: httpx.Response) -> Any:
    if response.status_code >= 400 and response.status_code not in call.answers:
        raise problem_of(response.status_code, response.text, response.headers.get("x-request-id"))
    if call.text:
        return response.text
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def unreachable(error: httpx.HTTPError, url: str) -> ECPError:
    """A transport failure as the SDK's error (status 0, CONNECTION_FAILED)."""
    return ECPConnectionError(f"{url}: {type(error).__name__}: {error}".rstrip(": "))
