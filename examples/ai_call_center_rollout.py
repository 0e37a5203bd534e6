"""Scenario 1 of the integration guide: roll out an AI call centre in prod mode.

1. the requirement (service-requirements.json), 2. sizing (`calculate-resources`),
3. create the tenant and download its manifest to deployment.yaml (`--apply` runs
`kubectl apply -f deployment.yaml` when kubectl is installed), 4. register the guide's
high_cpu_usage alert rule and follow the live metrics with websocket-client.

    ECP_URL=http://127.0.0.1:8001 ECP_API_KEY=$(cat .ecp/admin-key) \
        python examples/ai_call_center_rollout.py --messages 3

Prod needs an API key with the operator role. With `--simulate-metrics` the script also pushes
samples as the tenant's pods would (useful on a system where no pod reports yet).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests
import websocket

HERE = Path(__file__).resolve().parent


def api_base(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/api/v1") else url + "/api/v1"


def check(response: requests.Response, *ok: int) -> Any:
    if response.status_code not in ok:
        problem = response.json() if response.content else {}
        sys.exit(
            f"{response.request.method} {response.url}: {response.status_code} "
            f"{problem.get('code')}: {problem.get('detail')}"
        )
    return response.json() if "json" in response.headers.get("content-type", "") else None


def create_or_reuse(api: str, headers: dict[str, str], requirement: dict[str, Any]) -> str:
    response = requests.post(f"{api}/tenants/", headers=headers, json=requirement, timeout=60)
    if response.status_code == 409:
        print(f"tenant {requirement['tenant_id']} exists already: using it")
        return str(requirement["tenant_id"])
    tenant = check(response, 201, 202)
    print(
        f"tenant {tenant['tenant_id']} created: status {tenant['status']}, "
        f"preset {tenant.get('preset')}, GPUs {tenant.get('gpu_limit')}"
    )
    return str(tenant["tenant_id"])


def download_manifest(api: str, headers: dict[str, str], tenant_id: str, path: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        response = requests.get(f"{api}/tenants/{tenant_id}/manifest", headers=headers, timeout=30)
        if response.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.5)  # the manifest is rendered just after the sizing
    check(response, 200)
    path.write_text(response.text, encoding="utf-8")
    print(f"manifest revision {response.headers.get('X-Manifest-Revision')} saved to {path}")


def simulate_pods(api: str, headers: dict[str, str], tenant_id: str, stop: threading.Event) -> None:
    """Push samples as the tenant's pods would: CPU climbing past the alert threshold."""
    step = 0
    while not stop.is_set():
        metrics = {
            "cpu_usage": min(95.0, 60.0 + 5 * step),
            "memory_usage": 70.0 + step,
            "gpu_usage": 75.0,
            "request_count": 1200.0 + 10 * step,
            "response_time": 140.0,
        }
        requests.post(
            f"{api}/tenants/{tenant_id}/monitoring",
            headers=headers,
            json={"metrics": metrics},
            timeout=10,
        )
        step += 1
        stop.wait(0.5)


def follow_metrics(api: str, key: str, tenant_id: str, messages: int) -> None:
    """Step 4 of the guide: websocket-client's WebSocketApp, stopped after `messages`."""
    seen = 0

    def send_alert(text: str, tenant: str) -> None:
        # The orchestrator's own alert rule (registered above) notifies the webhook and e-mail;
        # this is only the script's local warning.
        print(f"ALERT {tenant}: {text}")

    def on_message(ws: websocket.WebSocketApp, message: str) -> None:
        nonlocal seen
        data = json.loads(message)
        print(f"CPU: {data['cpu']}%, Memory: {data['memory']}%, GPU: {data['gpu']}%")
        if (data["cpu"] or 0) > 80:
            send_alert("CPU 사용률 높음", tenant_id)
        seen += 1
        if seen >= messages:
            ws.close()

    ws_url = api.replace("http", "ws", 1).removesuffix("/api/v1")
    app = websocket.WebSocketApp(
        f"{ws_url}/ws/monitoring/{tenant_id}",
        header={"Authorization": f"Bearer {key}", "X-Demo-Mode": "false"},
        on_message=on_message,
        on_error=lambda ws, error: print(f"websocket error: {error}", file=sys.stderr),
    )
    app.run_forever()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("ECP_URL", "http://localhost:8001"))
    parser.add_argument("--key", default=os.environ.get("ECP_API_KEY"))
    parser.add_argument("--requirements", type=Path, default=HERE / "service-requirements.json")
    parser.add_argument("--tenant", help="tenant id (default: the one in the requirements)")
    parser.add_argument("--out", type=Path, default=Path("deployment.yaml"))
    parser.add_argument("--apply", action="store_true", help="run kubectl apply -f deployment.yaml")
    parser.add_argument("--messages", type=int, default=3, help="live messages to show")
    parser.add_argument("--simulate-metrics", action="store_true")
    args = parser.parse_args()
    if not args.key:
        return print("prod mode needs an API key: --key or ECP_API_KEY", file=sys.stderr) or 2
    api = api_base(args.url)
    headers = {
        "X-Demo-Mode": "false",
        "Content-Type": "application/json",
        "Authorization": f"Bearer {args.key}",
    }

    # 1. The requirement, 2. sizing without creating anything.
    requirement = json.loads(args.requirements.read_text(encoding="utf-8"))
    if args.tenant:
        requirement["tenant_id"] = args.tenant
    sizing = check(
        requests.post(
            f"{api}/tenants/calculate-resources", headers=headers, json=requirement, timeout=30
        ),
        200,
    )
    quota, cost = sizing["quota"], sizing["cost"]
    print(
        f"sizing: preset {sizing['preset']}, {quota['gpu_limit']} x {sizing['gpu_type']} GPU, "
        f"CPU {quota['cpu_limit']}, about ${cost['total_monthly']:,.0f}/month"
    )

    # 3. Create, download the manifest, apply it.
    tenant_id = create_or_reuse(api, headers, requirement)
    download_manifest(api, headers, tenant_id, args.out)
    if args.apply and shutil.which("kubectl"):
        subprocess.run(["kubectl", "apply", "-f", str(args.out)], check=True)
    else:
        print(f"to apply it yourself: kubectl apply -f {args.out}")

    # 4. Alert rule (the guide's) and live metrics.
    rule = {
        "alert_name": "high_cpu_usage",
        "condition": "cpu_usage > 80",
        "duration": "5m",
        "actions": [{"type": "email", "recipients": ["admin@company.com"]}],
    }
    answer = requests.post(
        f"{api}/tenants/{tenant_id}/alerts", headers=headers, json=rule, timeout=30
    )
    print(f"alert rule high_cpu_usage: {answer.status_code}")
    stop = threading.Event()
    if args.simulate_metrics:
        threading.Thread(
            target=simulate_pods, args=(api, headers, tenant_id, stop), daemon=True
        ).start()
    try:
        follow_metrics(api, args.key, tenant_id, args.messages)
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    sys.exit(main())
