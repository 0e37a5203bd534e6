"""The examples and the seed guide's own Python snippets, run against the running system.

The guide's snippets run as printed, with only these changes: the URL (`localhost:8001` becomes
the test system's), and in prod mode an API key (an `Authorization` header, or `?api_key=` on
the WebSocket URL, since websocket-client's app sends no header unless told). Names a snippet
uses but the guide defines elsewhere (`service_requirements` from step 1, `os`, `tenant_id`,
`send_alert`, `ECPClient`) are given in a prelude. Scenario 1's `os.system("kubectl apply -f
deployment.yaml")` runs too, against a stub `kubectl` first on PATH that records its arguments:
the test checks the call and the file it was given.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
import yaml

from ecp_client import ECPClient, ECPError
from tests.support.system import RunningSystem

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "seed" / "integration-guide.ko.md"
EXAMPLES = ROOT / "examples"
SEED_URL = "http://localhost:8001"


def tid() -> str:
    return f"t-{uuid4().hex[:8]}"


def guide_block(language: str, marker: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    found = [b for b in re.findall(rf"```{language}\n(.*?)```", text, re.S) if marker in b]
    assert len(found) == 1, f"{len(found)} {language} blocks of the guide contain {marker!r}"
    return found[0]


def swap(code: str, old: str, new: str) -> str:
    assert old in code, f"the snippet no longer contains {old!r}"
    return code.replace(old, new)


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    script = cwd / "snippet.py"
    script.write_text(code, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ensure_tenant(client: ECPClient, tenant_id: str, **requirements: int) -> None:
    spec = {
        "tenant_id": tenant_id,
        "name": tenant_id,
        "service_requirements": requirements or {"chatbot": 10},
    }
    try:
        client.create_tenant(spec)
    except ECPError as error:
        if error.code != "TENANT_EXISTS":
            raise


@pytest.fixture(scope="module")
def prod(system: RunningSystem) -> ECPClient:
    return ECPClient(system.base_url, is_demo=False, api_key=system.admin_key)


def example_env(system: RunningSystem, key: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECP_")}
    env["ECP_URL"] = system.base_url
    if key:
        env["ECP_API_KEY"] = key
    return env


def run_example(name: str, *args: str, env: dict[str, str], cwd: Path, timeout: float = 120):
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---- served examples -------------------------------------------------------------------------


def test_the_gateway_serves_the_examples_and_the_websocket_test_page(system: RunningSystem) -> None:
    listing = httpx.get(f"{system.base_url}/examples/")
    assert listing.status_code == 200 and "websocket-test.html" in listing.text
    page = httpx.get(f"{system.base_url}/examples/websocket-test.html")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/ws/monitoring/" in page.text and "/ws/events" in page.text
    script = httpx.get(f"{system.base_url}/examples/demo_trial.py")
    assert script.status_code == 200 and "ECPClient" in script.text
    for name in ("nothing.html", "..%2Fpyproject.toml", "%2Fetc%2Fpasswd"):
        missing = httpx.get(f"{system.base_url}/examples/{name}")
        assert missing.status_code == 404, name


# ---- the examples folder ---------------------------------------------------------------------


def test_the_demo_trial_example_runs(system: RunningSystem, tmp_path: Path) -> None:
    tenant_id = tid()
    done = run_example(
        "demo_trial.py", "--tenant", tenant_id, "--cleanup", env=example_env(system), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "검증 결과: {'valid': True" in done.stdout and "5 samples accepted" in done.stdout


def test_the_monitoring_client_example_runs_in_prod_with_a_key(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    tenant_id = tid()
    ensure_tenant(prod, tenant_id)
    env = example_env(system, system.admin_key)
    done = run_example("monitoring_client.py", tenant_id, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["accepted"] == 5
    refused = run_example("monitoring_client.py", tenant_id, env=example_env(system), cwd=tmp_path)
    assert refused.returncode == 1 and "UNAUTHORIZED" in refused.stdout


def test_the_gitops_example_writes_a_validated_manifest_once(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    tenant_id = tid()
    ensure_tenant(prod, tenant_id)
    env = example_env(system, system.admin_key)
    first = run_example(
        "gitops_manifest_download.py", tenant_id, "--out", "repo", env=env, cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    written = tmp_path / "repo" / tenant_id / "manifest.yaml"
    kinds = [d["kind"] for d in yaml.safe_load_all(written.read_text()) if d]
    assert kinds[0] == "Namespace" and "Deployment" in kinds
    second = run_example(
        "gitops_manifest_download.py", tenant_id, "--out", "repo", env=env, cwd=tmp_path
    )
    assert second.returncode == 0 and "unchanged" in second.stdout


def test_the_call_centre_rollout_example_runs_to_the_live_metrics(
    system: RunningSystem, tmp_path: Path
) -> None:
    env = example_env(system, system.admin_key)
    done = run_example(
        "ai_call_center_rollout.py",
        "--tenant",
        tid(),
        "--messages",
        "3",
        "--simulate-metrics",
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sizing: preset" in done.stdout and "created" in done.stdout
    assert done.stdout.count("CPU: ") == 3 and "alert rule high_cpu_usage: 201" in done.stdout
    assert "kind: Namespace" in (tmp_path / "deployment.yaml").read_text()
    without_key = run_example("ai_call_center_rollout.py", env=example_env(system), cwd=tmp_path)
    assert without_key.returncode == 2


# ---- the guide's snippets ----------------------------------------------------------------------


def test_the_guides_monitoring_client_snippet(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    ensure_tenant(prod, "my-ai-service", callbot=50, chatbot=100, advisor=25)
    code = guide_block("python", "class ECPMonitoringClient")
    code = swap(code, SEED_URL, system.base_url)
    marker = "is_demo=False)\n"
    code = swap(
        code, marker, marker + f'client.headers["Authorization"] = "Bearer {system.admin_key}"\n'
    )
    done = run_python(code + "\nprint(json.dumps(result))\n", tmp_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "accepted" and result["accepted"] == 5


def test_the_guides_manifest_download_snippet(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    ensure_tenant(prod, "my-ai-service", callbot=50, chatbot=100, advisor=25)
    code = guide_block("python", "def download_manifest")
    code = swap(code, SEED_URL, system.base_url)
    code = swap(
        code,
        "headers = {'X-Demo-Mode': str(is_demo).lower()}",
        "headers = {'X-Demo-Mode': str(is_demo).lower(), "
        f"'Authorization': 'Bearer {system.admin_key}'}}",
    )
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "매니페스트 저장됨: manifest.yaml" in done.stdout
    documents = [d for d in yaml.safe_load_all((tmp_path / "manifest.yaml").read_text()) if d]
    assert documents[0]["metadata"]["name"] == "ecp-ai-my-ai-service"


def test_the_guides_debug_header_snippet(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    ensure_tenant(prod, "my-ai-service", callbot=50, chatbot=100, advisor=25)
    code = guide_block("python", '"X-Debug": "true"')
    code = swap(code, SEED_URL, system.base_url)
    code = swap(
        code,
        '"X-Debug": "true"}',
        f'"X-Debug": "true", "Authorization": "Bearer {system.admin_key}"}}',
    )
    done = run_python("import requests\ntenant_id = 'my-ai-service'\n" + code, tmp_path)
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout.split("디버그 정보: ", 1)[1])
    assert info["request_id"] and info["mode"] == "prod"


def scenario_one_requirements() -> str:
    step_one = guide_block("json", '"tenant_id": "ai-call-center-prod"')
    return re.sub(r"\s*//[^\n]*", "", step_one)


def test_the_guides_scenario_one_creates_downloads_and_applies(
    system: RunningSystem, tmp_path: Path
) -> None:
    code = guide_block("python", 'os.system("kubectl apply -f deployment.yaml")')
    code = swap(code, SEED_URL, system.base_url)
    auth = f'"Authorization": "Bearer {system.admin_key}"'
    code = swap(
        code,
        'headers={"X-Demo-Mode": "false", "Content-Type": "application/json"}',
        f'headers={{"X-Demo-Mode": "false", "Content-Type": "application/json", {auth}}}',
    )
    code = swap(
        code, 'headers={"X-Demo-Mode": "false"}', f'headers={{"X-Demo-Mode": "false", {auth}}}'
    )
    prelude = (
        f"import json, os\nservice_requirements = json.loads({scenario_one_requirements()!r})\n"
    )
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "kubectl").write_text(f'#!/bin/sh\necho "$@" > {tmp_path / "kubectl-args"}\n')
    (stub / "kubectl").chmod(0o755)
    env = {"PATH": f"{stub}{os.pathsep}{os.environ['PATH']}"}
    done = run_python(prelude + code, tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kubectl-args").read_text().split() == ["apply", "-f", "deployment.yaml"]
    documents = [d for d in yaml.safe_load_all((tmp_path / "deployment.yaml").read_text()) if d]
    assert documents[0]["metadata"]["name"] == "ecp-ai-ai-call-center-prod"
    workloads = " ".join(d["metadata"]["name"] for d in documents if d["kind"] == "Deployment")
    for service in ("callbot", "chatbot", "advisor", "stt", "tts"):
        assert service in workloads


def test_the_guides_scenario_one_websocket_follow(
    system: RunningSystem, prod: ECPClient, tmp_path: Path
) -> None:
    tenant_id = tid()
    ensure_tenant(prod, tenant_id)
    code = guide_block("python", "websocket.WebSocketApp(")
    ws_base = system.base_url.replace("http://", "ws://")
    code = swap(
        code,
        'f"ws://localhost:8001/ws/monitoring/{tenant_id}"',
        f'f"{ws_base}/ws/monitoring/{{tenant_id}}?api_key={system.admin_key}"',
    )
    prelude = (
        f"tenant_id = {tenant_id!r}\n"
        "def send_alert(text, tenant):\n    print('ALERT', text, tenant, flush=True)\n"
    )
    script = tmp_path / "snippet.py"
    script.write_text(prelude + code, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-u", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(line.startswith("ALERT") for line in lines):
            prod.push_metrics(
                tenant_id, {"cpu_usage": 85.0, "memory_usage": 60.0, "gpu_usage": 70.0}
            )
            time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(10)
        reader.join(10)
    assert "CPU: 85.0%, Memory: 60.0%, GPU: 70.0%\n" in lines, (lines, process.stderr.read())
    assert f"ALERT CPU 사용률 높음 {tenant_id}\n" in lines


def test_the_guides_scenario_two_runs_with_the_sdk(system: RunningSystem, tmp_path: Path) -> None:
    code = guide_block("python", "demo_client = ECPClient(")
    code = swap(code, SEED_URL, system.base_url)
    done = run_python("from ecp_client import ECPClient\n" + code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "검증 결과: {'valid': True" in done.stdout
    demo = ECPClient(system.base_url, is_demo=True)
    assert demo.get_tenant("test-ai-service")["preset"] == "small"
