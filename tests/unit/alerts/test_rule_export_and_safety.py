"""Exported rule files pass promtool; webhook URLs to internal addresses are refused; payloads
are signed with the rule's secret."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from services.alerts.export import export_yaml
from services.alerts.payloads import encode, signature, verify
from services.alerts.rules import RuleBody, compile_rule, default_rule_bodies, masked_actions
from services.alerts.safety import ForbiddenWebhookError, check_webhook_url

pytestmark = pytest.mark.unit


def rules():
    bodies = default_rule_bodies(
        {
            "cpu_percent": 80,
            "memory_percent": 85,
            "gpu_percent": 90,
            "disk_percent": 85,
            "response_time_ms": 200,
        }
    )
    bodies.append(
        RuleBody(
            alert_name="hot",
            condition="avg(cpu_usage[5m]) > 80 and not gpu_usage < 1",
            duration="5m",
            keep_firing_for="1m",
            labels={"team": "ops"},
        )
    )
    return [compile_rule(f"r{i}", "acme", b) for i, b in enumerate(bodies)]


def test_prometheus_rule_file_passes_promtool(tmp_path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    path = tmp_path / "rules.yaml"
    path.write_text(export_yaml("acme", rules(), "prometheus"))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout


def test_prometheus_rule_object_holds_the_same_groups() -> None:
    document = yaml.safe_load(export_yaml("acme", rules(), "kubernetes"))
    assert document["kind"] == "PrometheusRule"
    assert document["metadata"]["namespace"] == "ecp-ai-acme"
    hot = document["spec"]["groups"][0]["rules"][-1]
    assert hot["for"] == "5m" and hot["keep_firing_for"] == "1m"
    assert hot["labels"] == {"team": "ops", "severity": "warning", "tenant_id": "acme"}


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://10.0.0.5/x",
        "http://169.254.169.254/latest",
        "http://[::1]/x",
        "http://192.168.1.1/x",
        "ftp://example.com/x",
        "http://user:pw@example.com/x",
    ],
)
async def test_internal_or_odd_webhook_urls_are_refused(url: str) -> None:
    with pytest.raises(ForbiddenWebhookError):
        await check_webhook_url(url, [])


async def test_host_name_resolving_to_a_private_address_is_refused() -> None:
    async def resolve(host: str) -> list[str]:
        return ["10.9.8.7"]

    with pytest.raises(ForbiddenWebhookError):
        await check_webhook_url("https://hooks.example.com/x", [], resolve)


async def test_allowed_hosts_and_public_addresses_pass() -> None:
    async def resolve(host: str) -> list[str]:
        return ["93.184.216.34"]

    await check_webhook_url("http://127.0.0.1:9000/x", ["127.0.0.1"])
    await check_webhook_url("https://hooks.example.com/x", [], resolve)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = encode({"status": "firing"})
    header = signature(body, "k")
    assert header.startswith("sha256=") and verify(body, "k", header)
    assert not verify(body + b" ", "k", header) and not verify(body, "other", header)


def test_secrets_are_masked_in_answers() -> None:
    shown = masked_actions([{"type": "webhook", "url": "https://x", "secret": "abc"}])
    assert shown[0]["secret"] == "***"
