"""The UI's committed assets: served from the gateway, every label in both languages, every
module import resolvable, nothing outside the UI folder reachable."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway.errors import install_error_handlers
from services.gateway.routes import ui

pytestmark = pytest.mark.unit
SCRIPTS = sorted((ui.UI_ROOT / "js").rglob("*.js"))
I18N = (ui.UI_ROOT / "js" / "i18n.js").read_text()
# Keys built at run time from data: each family's members are listed here.
DYNAMIC_KEYS = [
    *(f"status.{s}" for s in ("pending", "deploying", "running", "failed", "deleting", "rejected")),
    *(f"status.alert-{s}" for s in ("inactive", "pending", "firing", "resolved")),
    *(f"status.silence-{s}" for s in ("pending", "active", "expired")),
    *(f"service.{s}" for s in ("callbot", "chatbot", "advisor", "stt", "tts", "ta", "qa")),
    *(f"metric.{m}" for m in ("cpu", "memory", "gpu", "requests", "response_time")),
    *(f"monitoring.range.{h}" for h in (1, 24, 168)),
    *(f"live.{s}" for s in ("connecting", "open", "closed", "refused")),
    *(f"tenant.change.{c}" for c in ("added", "removed", "changed")),
]


def dictionary(name: str) -> set[str]:
    block = re.search(rf"const {name} = \{{(.*?)\n\}};", I18N, re.S)
    assert block is not None, f"no dictionary {name} in i18n.js"
    return set(re.findall(r'"([a-zA-Z0-9_.-]+)":', block.group(1)))


def used_keys() -> set[str]:
    keys: set[str] = set()
    for script in SCRIPTS:
        keys.update(re.findall(r'\bt\("([a-zA-Z0-9_.-]+)"', script.read_text()))
    html = (ui.UI_ROOT / "index.html").read_text()
    keys.update(re.findall(r'data-i18n="([^"]+)"', html))
    return keys | set(DYNAMIC_KEYS)


def test_korean_and_english_label_the_same_keys() -> None:
    assert dictionary("ko") == dictionary("en")


def test_every_label_the_ui_uses_exists_in_both_languages() -> None:
    missing = used_keys() - dictionary("ko")
    assert not missing, f"labels without a translation: {sorted(missing)}"


def test_every_relative_module_import_names_a_committed_file() -> None:
    for script in SCRIPTS:
        for target in re.findall(r'from "(\.[^"]+)"', script.read_text()):
            assert (script.parent / target).resolve().is_file(), f"{script.name} imports {target}"


def test_no_asset_is_fetched_from_outside_the_gateway() -> None:
    for path in [*SCRIPTS, ui.UI_ROOT / "index.html", ui.UI_ROOT / "styles.css"]:
        text = path.read_text()
        assert not re.search(r"""(src|href|from)\s*=?\s*["']https?://""", text), path.name
        assert "@import" not in text, path.name


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(ui.router)
    return TestClient(app)


def test_root_serves_the_page_and_its_module(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/js/app.js">' in page.text
    script = client.get("/ui/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "path", ["/ui/../routes/ui.py", "/ui/..%2f..%2fapp.py", "/ui/missing.js", "/ui/js"]
)
def test_paths_outside_the_ui_or_missing_are_a_problem_404(client: TestClient, path: str) -> None:
    reply = client.get(path)
    assert reply.status_code == 404
    assert reply.headers["content-type"] == "application/problem+json"


def test_asset_path_resolves_only_files_inside_the_ui_folder() -> None:
    assert ui.asset_path("js/app.js") is not None
    assert ui.asset_path("../routes/ui.py") is None
    assert ui.asset_path("/etc/passwd") is None
