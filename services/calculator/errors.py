"""The one problem the calculator reports: a requirement the catalogue cannot meet."""

from __future__ import annotations


class SizingError(Exception):
    """A stable `code` for programs and a `reason` for people."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
