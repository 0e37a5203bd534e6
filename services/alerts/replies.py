"""The shape of an rpc answer: `{ok, status, data}`, moments as ISO 8601 text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def ok(data: Any, status: int = 200) -> dict[str, Any]:
    return {"ok": True, "status": status, "data": data}


def iso(moment: float | datetime | None) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, float | int):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.isoformat()
