"""The two modes a request, a message and a database belong to."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    demo = "demo"
    prod = "prod"


class InvalidModeError(ValueError):
    pass


def mode_from_header(value: str | None) -> Mode:
    """`X-Demo-Mode: true` is demo, `false` or no header is prod; anything else is refused."""
    if value is None:
        return Mode.prod
    normalised = value.strip().lower()
    if normalised == "true":
        return Mode.demo
    if normalised == "false":
        return Mode.prod
    raise InvalidModeError(f"X-Demo-Mode must be 'true' or 'false', not {value!r}")
