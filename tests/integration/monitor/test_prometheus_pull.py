"""Pull mode against a real Prometheus server scraping a small exporter the test starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from services.monitor.background import pull_prometheus
from shared.embedded import free_port
from shared.modes import Mode
from tests.integration.monitor.conftest import eventually

pytestmark = pytest.mark.integration
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"

# Serves cAdvisor-like series (tenant known through kube_pod_labels) on /cadvisor, and a pod's
# own series on /pod (tenant given as a target label, as the seed's relabel rule does).
EXPORTER = textwrap.dedent(
    """
    import sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer
    cadvisor_tenant, pod_tenant = sys.argv[2], sys.argv[3]
    started = time.time()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/cadvisor":
                ns = f'namespace="ecp-ai-{cadvisor_tenant}",pod="callbot-0"'
                body = (
                    f'container_cpu_usage_seconds_total{{{ns},container="callbot"}} '
                    f'{(time.time() - started) * 0.5}\\n'
                    f'container_memory_working_set_bytes{{{ns},container="callbot"}} 1048576\\n'
                    f'kube_pod_labels{{{ns},label_ecp_ai_tenant="{cadvisor_tenant}"}} 1\\n'
                )
            else:
                body = 'DCGM_FI_DEV_GPU_UTIL{gpu="0"} 77\\n'
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
    """
)


def prometheus_config(exporter: int, pod_tenant: str) -> str:
    return textwrap.dedent(
        f"""
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: cadvisor
            metrics_path: /cadvisor
            static_configs:
              - targets: ['127.0.0.1:{exporter}']
          - job_name: kubernetes-pods
            metrics_path: /pod
            static_configs:
              - targets: ['127.0.0.1:{exporter}']
                labels:
                  tenant_id: {pod_tenant}
        """
    )


@pytest.fixture
def tenants() -> tuple[str, str]:
    return f"t-{uuid4().hex[:8]}", f"t-{uuid4().hex[:8]}"


@pytest.fixture
def prometheus(tenants):
    if not Path(PROMETHEUS).exists():
        pytest.skip("the prometheus binary is missing: apt-get install -y prometheus")
    root = Path(tempfile.mkdtemp(prefix="ecp-prometheus-"))
    exporter_port, port = free_port(), free_port()
    (root / "exporter.py").write_text(EXPORTER)
    (root / "prometheus.yml").write_text(prometheus_config(exporter_port, tenants[1]))
    exporter = subprocess.Popen(
        [sys.executable, str(root / "exporter.py"), str(exporter_port), *tenants]
    )
    server = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={root / 'prometheus.yml'}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(root / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_scrapes(url)
        yield url
    finally:
        for process in (server, exporter):
            process.terminate()
            process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def wait_for_scrapes(url: str, timeout: float = 30.0) -> None:
    """Until both targets are up and the CPU counter has enough points for a rate."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(
                f"{url}/api/v1/query",
                params={"query": "count_over_time(container_cpu_usage_seconds_total[1m])"},
            ).json()
            up = httpx.get(f"{url}/api/v1/query", params={"query": "sum(up)"}).json()
            counts = [float(r["value"][1]) for r in answer["data"]["result"]]
            ups = [float(r["value"][1]) for r in up["data"]["result"]]
            if counts and counts[0] >= 3 and ups == [2.0]:
                return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError("prometheus did not scrape the exporter in time")


async def test_pulled_figures_are_stored_per_tenant(
    monitor, monitor_settings, ask, prometheus, tenants
):
    settings = monitor_settings.model_copy(update={"monitoring_endpoint": prometheus})
    cadvisor_tenant, pod_tenant = tenants
    async with httpx.AsyncClient(timeout=10) as client:
        published = await pull_prometheus(monitor.broker, client, settings, datetime.now(UTC))
    assert published >= 2

    async def pulled(tenant_id: str) -> dict[str, float]:
        answer = await ask(Mode.prod, tenant_id=tenant_id, source="pull")
        return {name: points[-1]["value"] for name, points in answer["metrics"].items()}

    by_join = await eventually(lambda: pulled(cadvisor_tenant))
    assert by_join["cpu_cores"] == pytest.approx(0.5, rel=0.2)
    assert by_join["memory_bytes"] == 1048576
    by_label = await eventually(lambda: pulled(pod_tenant))
    assert by_label == {"gpu_usage": 77.0, "pods_up": 1.0}
    assert (await ask(Mode.demo, tenant_id=pod_tenant))["points"] == 0
