"""`ecp` client commands as a script runs them: a subprocess, ECP_URL, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml

from tests.support.system import RunningSystem

ECP = str(Path(sys.executable).with_name("ecp"))


def tid() -> str:
    return f"t-{uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def ecp(system: RunningSystem):
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ECP_")}
    base_env["ECP_URL"] = system.base_url

    def run(*args: str, key: str | None = None, stdin: str | None = None, timeout: float = 120):
        env = {**base_env, **({"ECP_API_KEY": key} if key else {})}
        return subprocess.run(
            [ECP, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout
        )

    return run


def spec_file(tmp_path: Path, tenant_id: str, **extra: Any) -> str:
    path = tmp_path / f"{tenant_id}.json"
    spec = {
        "tenant_id": tenant_id,
        "name": "CLI 테스트",
        "service_requirements": {"chatbot": 20},
        "sla_target": {"availability": "99.9%", "response_time": "200ms"},
        **extra,
    }
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return str(path)


def test_tenants_are_created_listed_shown_and_deleted(ecp, tmp_path: Path) -> None:
    tenant_id = tid()
    created = ecp("--demo", "-o", "json", "tenants", "create", "-f", spec_file(tmp_path, tenant_id))
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["tenant_id"] == tenant_id
    listed = ecp("tenants", "list", "--demo", "--limit", "500")
    assert listed.returncode == 0 and listed.stdout.startswith("TENANT_ID")
    assert tenant_id in listed.stdout and "total_count" in listed.stdout
    shown = ecp("--demo", "-o", "yaml", "tenants", "get", tenant_id)
    assert yaml.safe_load(shown.stdout)["tenant_id"] == tenant_id
    again = ecp("--demo", "tenants", "create", "-f", spec_file(tmp_path, tenant_id))
    assert again.returncode == 1 and "TENANT_EXISTS" in again.stderr
    assert ecp("--demo", "tenants", "delete", tenant_id).returncode == 0
    gone = ecp("--demo", "tenants", "get", tenant_id)
    assert gone.returncode == 1 and gone.stderr.startswith("ecp: TENANT_NOT_FOUND (404)")


def test_bad_input_and_usage_mistakes_have_their_exit_codes(ecp, tmp_path: Path) -> None:
    bad = ecp("--demo", "tenants", "create", "-f", spec_file(tmp_path, "Bad_Id"))
    assert bad.returncode == 1 and "VALIDATION_FAILED" in bad.stderr
    assert ecp("--demo", "tenants", "create", "-f", str(tmp_path / "missing.json")).returncode == 2
    (tmp_path / "broken.json").write_text("{not json")
    assert ecp("--demo", "size", "-f", str(tmp_path / "broken.json")).returncode == 2
    assert ecp("tenants", "frobnicate").returncode == 2
    unreachable = ecp("--url", "http://127.0.0.1:1", "--demo", "tenants", "list")
    assert unreachable.returncode == 3 and "CONNECTION_FAILED" in unreachable.stderr


def test_prod_needs_a_key_from_the_option_or_the_environment(
    ecp, system: RunningSystem, tmp_path: Path
) -> None:
    refused = ecp("tenants", "list")
    assert (
        refused.returncode == 1 and "UNAUTHORIZED" in refused.stderr and "--key" in refused.stderr
    )
    assert ecp("tenants", "list", key=system.admin_key).returncode == 0
    assert ecp("--key", system.admin_key, "-o", "json", "tenants", "list").returncode == 0


def test_sizing_and_the_manifest_round_trip(ecp, tmp_path: Path) -> None:
    tenant_id = tid()
    spec = spec_file(tmp_path, tenant_id, auto_deploy=False)
    sized = ecp("--demo", "-o", "json", "size", "-f", spec)
    assert sized.returncode == 0 and json.loads(sized.stdout)["preset"]
    assert ecp("--demo", "tenants", "create", "-f", spec).returncode == 0
    manifest = ecp("--demo", "manifest", "get", tenant_id)
    assert manifest.returncode == 0, manifest.stderr
    documents = [d for d in yaml.safe_load_all(manifest.stdout) if d]
    assert documents[0]["kind"] == "Namespace"
    path = tmp_path / "manifest.yaml"
    path.write_text(manifest.stdout)
    valid = ecp("--demo", "manifest", "validate", str(path))
    assert valid.returncode == 0 and yaml.safe_load(valid.stdout)["valid"] is True
    path.write_text(manifest.stdout.replace("kind: Deployment", "kind: Deploymnt", 1))
    invalid = ecp("--demo", "-o", "json", "manifest", "validate", str(path))
    assert invalid.returncode == 1 and json.loads(invalid.stdout)["valid"] is False
    assert ecp("--demo", "manifest", "revisions", tenant_id).returncode == 0


def test_deploy_follow_shows_progress_until_it_succeeds(ecp, tmp_path: Path) -> None:
    tenant_id = tid()
    ecp("--demo", "tenants", "create", "-f", spec_file(tmp_path, tenant_id, auto_deploy=False))
    followed = ecp("--demo", "-o", "json", "deploy", tenant_id, "--follow", "--timeout", "90")
    assert followed.returncode == 0, followed.stderr
    assert "%" in followed.stderr and "queued" in followed.stderr
    assert "validate" in followed.stderr and "succeeded" in followed.stderr
    assert json.loads(followed.stdout)["state"] == "succeeded"


def test_a_followed_deployment_that_fails_exits_4(
    ecp, system: RunningSystem, tmp_path: Path
) -> None:
    tenant_id = tid()  # prod, and the test system has no Kubernetes cluster configured
    key = system.admin_key
    assert ecp("tenants", "create", "-f", spec_file(tmp_path, tenant_id), key=key).returncode == 0
    followed = ecp("deploy", tenant_id, "--follow", "--timeout", "90", key=key)
    assert followed.returncode == 4, (followed.stdout, followed.stderr)
    assert "failed" in followed.stderr


def test_metrics_alerts_and_keys(ecp, system: RunningSystem, tmp_path: Path) -> None:
    tenant_id = tid()
    ecp("--demo", "tenants", "create", "-f", spec_file(tmp_path, tenant_id, auto_deploy=False))
    pushed = ecp(
        "--demo", "-o", "json", "metrics", "push", tenant_id, "cpu_usage=65", "memory_usage=70.5"
    )
    assert pushed.returncode == 0 and json.loads(pushed.stdout)["accepted"] == 2
    out_of_range = ecp("--demo", "metrics", "push", tenant_id, "cpu_usage=650")
    assert out_of_range.returncode == 1 and "INVALID_SAMPLE" in out_of_range.stderr

    added = ecp(
        "--demo",
        "-o",
        "json",
        "alerts",
        "add",
        tenant_id,
        "--name",
        "high_cpu_usage",
        "--condition",
        "cpu_usage > 80",
        "--duration",
        "5m",
        "--webhook",
        "http://127.0.0.1:9/alerts",
        "--email",
        "admin@company.com",
    )
    assert added.returncode == 0, added.stderr
    rule = json.loads(added.stdout)
    assert [a["type"] for a in rule["actions"]] == ["webhook", "email"]
    listed = ecp("--demo", "alerts", "list", tenant_id)
    assert "high_cpu_usage" in listed.stdout and listed.stdout.startswith("RULE_ID")

    made = ecp(
        "-o",
        "json",
        "keys",
        "create",
        "--name",
        "cli-op",
        "--role",
        "operator",
        key=system.admin_key,
    )
    assert made.returncode == 0, made.stderr
    new_key = json.loads(made.stdout)["api_key"]
    assert ecp("tenants", "list", key=new_key).returncode == 0
    denied = ecp("keys", "list", key=new_key)
    assert denied.returncode == 1 and "FORBIDDEN" in denied.stderr
