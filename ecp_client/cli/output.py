"""Printing answers as JSON, YAML or a plain table."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import yaml

MAX_CELL = 60


def cell(value: Any) -> str:
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    if not rows:
        return "(none)"
    names = list(columns or dict.fromkeys(k for row in rows for k in row))
    cells = [[cell(row.get(name)) for name in names] for row in rows]
    widths = [max(len(n), *(len(r[i]) for r in cells)) for i, n in enumerate(names)]
    lines = ["  ".join(n.upper().ljust(w) for n, w in zip(names, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def pairs(result: dict[str, Any]) -> str:
    width = max((len(k) for k in result), default=0)
    return "\n".join(f"{k.ljust(width)}  {cell(v)}" for k, v in result.items())


def render(
    result: Any,
    output: str,
    rows_key: str | None = None,
    columns: Sequence[str] | None = None,
) -> str:
    """`result` as the user asked: json and yaml show everything; table shows `rows_key`'s list
    (or the list itself) in `columns`, and a single object as name/value lines."""
    if output == "json":
        return json.dumps(result, indent=2, ensure_ascii=False)
    if output == "yaml":
        return yaml.safe_dump(result, allow_unicode=True, sort_keys=False).rstrip()
    if isinstance(result, str):
        return result.rstrip()
    rows = result.get(rows_key) if rows_key and isinstance(result, dict) else result
    if isinstance(rows, list) and all(isinstance(r, dict) for r in rows):
        text = table(rows, columns)
        if rows_key and isinstance(result, dict):
            rest = {k: v for k, v in result.items() if k != rows_key}
            text += ("\n\n" + pairs(rest)) if rest else ""
        return text
    if isinstance(result, dict):
        return pairs(result)
    return cell(result)


def emit(result: Any, output: str, stream: TextIO | None = None, **how: Any) -> None:
    print(render(result, output, **how), file=stream or sys.stdout)
