"""The one exception the SDK raises: an API problem, or a server that could not be reached."""

from __future__ import annotations

import json
from typing import Any


class ECPError(Exception):
    """An error answer of the API (RFC 9457 problem), or no answer at all.

    `status` is the HTTP status (0 when the server could not be reached), `code` the stable code
    of the problem body (`TENANT_NOT_FOUND`, `TENANT_EXISTS`, `VALIDATION_FAILED`, ...), `detail`
    its explanation, `problem` the whole body and `request_id` the `X-Request-ID` to quote.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        problem: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(f"{code} ({status}): {detail}" if status else f"{code}: {detail}")
        self.status, self.code, self.detail = status, code, detail
        self.problem = problem or {}
        self.request_id = request_id


class ECPConnectionError(ECPError):
    """The server did not answer: refused, unreachable, or timed out."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, "CONNECTION_FAILED", detail)


def problem_of(status: int, text: str, request_id: str | None = None) -> ECPError:
    """The ECPError for an error answer; a body that is not a problem still gives a code."""
    try:
        body = json.loads(text) if text else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("code") or f"HTTP_{status}")
    detail = str(body.get("detail") or body.get("title") or text[:300] or "no detail")
    return ECPError(status, code, detail, body, request_id)
