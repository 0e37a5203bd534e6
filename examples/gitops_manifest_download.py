"""Download a tenant's manifest for a GitOps repository, validated, written only when it changed.

A pipeline step (the guide's "GitOps workflow"): fetch the manifest, check it with the
orchestrator's validation, write `<out>/<tenant>/manifest.yaml` when its content hash differs
from the one committed, and say whether anything changed (exit 0; 1 if it is not valid).

    ECP_URL=http://127.0.0.1:8001 ECP_API_KEY=... \
        python examples/gitops_manifest_download.py my-ai-service --out deploy/tenants
    git add deploy/tenants && git commit -m "tenant manifests"   # then Argo CD / Flux apply it
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("tenant_id")
    parser.add_argument("--url", default=os.environ.get("ECP_URL", "http://localhost:8001"))
    parser.add_argument("--key", default=os.environ.get("ECP_API_KEY"))
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("manifests"))
    parser.add_argument("--include-monitoring", action="store_true")
    args = parser.parse_args()

    url = args.url.rstrip("/")
    api = url if url.endswith("/api/v1") else url + "/api/v1"
    headers = {"X-Demo-Mode": str(args.demo).lower()}
    if args.key:
        headers["Authorization"] = f"Bearer {args.key}"
    params = {"format": "yaml", "include_monitoring": str(args.include_monitoring).lower()}

    deadline = time.monotonic() + 30
    while True:
        response = requests.get(
            f"{api}/tenants/{args.tenant_id}/manifest", headers=headers, params=params, timeout=30
        )
        not_ready = response.status_code == 404 and "MANIFEST_NOT_READY" in response.text
        if not not_ready or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if response.status_code != 200:
        print(f"error: {response.status_code} {response.text}", file=sys.stderr)
        return 1
    manifest, content_hash = response.text, response.headers["X-Content-Hash"]
    revision = response.headers.get("X-Manifest-Revision")

    report = requests.post(
        f"{api}/tenants/validate-manifest",
        headers=headers,
        json={"tenant_id": args.tenant_id, "manifest_content": manifest},
        timeout=60,
    ).json()
    for warning in report.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if not report.get("valid"):
        for error in report.get("errors", []):
            print(f"error: {error}", file=sys.stderr)
        return 1

    folder = args.out / args.tenant_id
    folder.mkdir(parents=True, exist_ok=True)
    hash_file = folder / ".content-hash"
    if hash_file.exists() and hash_file.read_text().strip() == content_hash:
        print(f"{args.tenant_id}: unchanged (revision {revision})")
        return 0
    (folder / "manifest.yaml").write_text(manifest, encoding="utf-8")
    hash_file.write_text(content_hash + "\n")
    summary = report["resource_summary"]
    print(
        f"{args.tenant_id}: revision {revision} written to {folder / 'manifest.yaml'} "
        f"(CPU {summary['total_cpu']}, memory {summary['total_memory']}, "
        f"GPU {summary['total_gpu']}, {summary['estimated_cost']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
