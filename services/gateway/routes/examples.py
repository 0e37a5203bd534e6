"""`/examples/`: the runnable examples (scripts, `websocket-test.html`) served from the repository."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from services.gateway.errors import Problem
from shared.settings import PROJECT_ROOT

router = APIRouter(tags=["examples"])
EXAMPLES_DIR = PROJECT_ROOT / "examples"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".yaml": "text/yaml; charset=utf-8",
    ".sh": "text/x-shellscript; charset=utf-8",
}


def example_files() -> dict[str, Path]:
    """Files directly in the examples folder that may be served, by name; nothing else is."""
    if not EXAMPLES_DIR.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(EXAMPLES_DIR.iterdir())
        if path.is_file() and path.suffix in MEDIA_TYPES and not path.name.startswith(".")
    }


@router.get("/examples/", response_class=HTMLResponse)
def listing() -> str:
    items = "\n".join(
        f'<li><a href="/examples/{html.escape(name)}">{html.escape(name)}</a></li>'
        for name in example_files()
    )
    return (
        "<!doctype html><meta charset='utf-8'><title>ECP-AI examples</title>"
        "<h1>ECP-AI Orchestrator examples</h1>"
        "<p>Run a script with <code>ECP_URL=http://127.0.0.1:8001 python examples/NAME</code> "
        "(and <code>ECP_API_KEY</code> for prod).</p>"
        f"<ul>\n{items or '<li>no examples installed</li>'}\n</ul>"
    )


@router.get("/examples/{name}")
def example(name: str) -> Response:
    path = example_files().get(name)
    if path is None:
        raise Problem(404, "EXAMPLE_NOT_FOUND", f"no example called {name!r}; see /examples/")
    return Response(path.read_bytes(), media_type=MEDIA_TYPES[path.suffix])
