"""A tenant's rules for Prometheus: a rule file, or a PrometheusRule object for the Operator."""

from __future__ import annotations

from typing import Any

import yaml

from services.alerts.durations import format_duration
from services.alerts.promql import to_promql
from services.alerts.rules import Rule


def _rule(rule: Rule) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "alert": rule.alert_name,
        "expr": to_promql(rule.condition, rule.tenant_id),
    }
    if rule.duration_s > 0:
        entry["for"] = format_duration(rule.duration_s)
    if rule.keep_firing_for_s > 0:
        entry["keep_firing_for"] = format_duration(rule.keep_firing_for_s)
    entry["labels"] = {**rule.labels, "severity": rule.severity, "tenant_id": rule.tenant_id}
    entry["annotations"] = {
        "summary": f"{rule.alert_name} on tenant {rule.tenant_id}",
        "condition": rule.condition_text,
        **rule.annotations,
    }
    return entry


def rule_groups(tenant_id: str, rules: list[Rule]) -> dict[str, Any]:
    """`groups:` of a Prometheus rule file; disabled rules are left out."""
    return {
        "groups": [
            {
                "name": f"ecp-tenant-{tenant_id}",
                "rules": [_rule(r) for r in rules if r.enabled],
            }
        ]
    }


def prometheus_rule(tenant_id: str, rules: list[Rule]) -> dict[str, Any]:
    """The same groups as a `monitoring.coreos.com/v1` PrometheusRule in the tenant's namespace."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": f"ecp-alerts-{tenant_id}",
            "namespace": f"ecp-ai-{tenant_id}",
            "labels": {"ecp.ai/tenant": tenant_id, "app.kubernetes.io/managed-by": "ecp-alerts"},
        },
        "spec": rule_groups(tenant_id, rules),
    }


def export_yaml(tenant_id: str, rules: list[Rule], fmt: str) -> str:
    document = (
        prometheus_rule(tenant_id, rules) if fmt == "kubernetes" else rule_groups(tenant_id, rules)
    )
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
