"""`send_test_metrics`' values: fixed by the tenant, believable, shaped by its size."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecp_client.demo_metrics import sample_metrics_for

pytestmark = pytest.mark.unit
PERCENTAGES = ("cpu_usage", "memory_usage", "gpu_usage")


def tenant(tenant_id: str, gpus: int = 2, **requirements: int) -> dict:
    return {
        "tenant_id": tenant_id,
        "service_requirements": requirements or {"chatbot": 10},
        "gpu_limit": gpus,
    }


def test_the_same_tenant_always_gets_the_same_metrics() -> None:
    assert sample_metrics_for(tenant("acme")) == sample_metrics_for(tenant("acme"))
    assert sample_metrics_for(tenant("acme")) != sample_metrics_for(tenant("other"))


def test_the_seed_metric_names_are_all_sent() -> None:
    assert set(sample_metrics_for(tenant("acme"))) == {
        "cpu_usage",
        "memory_usage",
        "gpu_usage",
        "request_count",
        "response_time",
    }


def test_a_tenant_without_gpus_reports_no_gpu_use() -> None:
    assert sample_metrics_for(tenant("acme", gpus=0))["gpu_usage"] == 0.0
    assert sample_metrics_for(tenant("acme", gpus=1))["gpu_usage"] > 0


def test_a_busier_tenant_reports_more_requests() -> None:
    small = sample_metrics_for(tenant("acme", chatbot=10))["request_count"]
    big = sample_metrics_for(tenant("acme", chatbot=200, callbot=50))["request_count"]
    assert big > small


@settings(max_examples=200)
@given(
    tenant_id=st.from_regex(r"[a-z0-9][-a-z0-9]{0,20}", fullmatch=True),
    units=st.integers(0, 100_000),
    gpus=st.integers(0, 64),
)
def test_values_are_ones_the_gateway_accepts(tenant_id: str, units: int, gpus: int) -> None:
    metrics = sample_metrics_for(tenant(tenant_id, gpus, chatbot=units))
    for name in PERCENTAGES:
        assert 0 <= metrics[name] <= 100
    assert metrics["request_count"] >= 1 and metrics["response_time"] > 0
