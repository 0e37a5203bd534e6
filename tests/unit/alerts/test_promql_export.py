"""Conditions exported as PromQL over the tenant's `ecp_tenant_<metric>` gauges."""

import pytest

from services.alerts.condition_parser import parse_condition
from services.alerts.promql import to_promql

pytestmark = pytest.mark.unit

CPU = 'ecp_tenant_cpu_usage{tenant_id="acme"}'
GPU = 'ecp_tenant_gpu_usage{tenant_id="acme"}'
MEM = 'ecp_tenant_memory_usage{tenant_id="acme"}'


@pytest.mark.parametrize(
    ("condition", "promql"),
    [
        ("cpu_usage > 80", f"{CPU} > 80"),
        ("cpu_usage >= 80.5", f"{CPU} >= 80.5"),
        ("cpu_usage < -1", f"{CPU} < -1"),
        ("avg(cpu_usage[5m]) > 80", f"avg_over_time({CPU}[5m]) > 80"),
        ("max(cpu_usage[1h30m]) > 80", f"max_over_time({CPU}[1h30m]) > 80"),
        ("min(cpu_usage[30s]) < 1", f"min_over_time({CPU}[30s]) < 1"),
        ("sum(cpu_usage[1d]) > 1", f"sum_over_time({CPU}[1d]) > 1"),
        ("count(cpu_usage[10m]) == 0", f"count_over_time({CPU}[10m]) == 0"),
        ("last(cpu_usage[2m]) != 3", f"last_over_time({CPU}[2m]) != 3"),
        ("rate(cpu_usage[5m]) > 0.5", f"rate({CPU}[5m]) > 0.5"),
        ("cpu_usage > 80 and gpu_usage > 90", f"{CPU} > 80 and on (tenant_id) {GPU} > 90"),
        ("cpu_usage > 80 or gpu_usage > 90", f"{CPU} > 80 or on (tenant_id) {GPU} > 90"),
        (
            "(cpu_usage > 80 or gpu_usage > 90) and memory_usage > 85",
            f"({CPU} > 80 or on (tenant_id) {GPU} > 90) and on (tenant_id) {MEM} > 85",
        ),
        ("not cpu_usage > 80", f"{CPU} <= 80"),
        ("not cpu_usage == 1", f"{CPU} != 1"),
        ("not not cpu_usage < 5", f"{CPU} < 5"),
        (
            "not (cpu_usage > 80 and gpu_usage >= 90)",
            f"{CPU} <= 80 or on (tenant_id) {GPU} < 90",
        ),
        (
            "memory_usage > 85 and not (cpu_usage > 80 or gpu_usage < 90)",
            f"{MEM} > 85 and on (tenant_id) ({CPU} <= 80 and on (tenant_id) {GPU} >= 90)",
        ),
    ],
)
def test_conditions_become_the_expected_promql(condition, promql):
    assert to_promql(parse_condition(condition), "acme") == promql


def test_a_tenant_id_is_escaped_inside_the_label_matcher():
    promql = to_promql(parse_condition("cpu > 1"), 'a"b\\c')
    assert promql == 'ecp_tenant_cpu{tenant_id="a\\"b\\\\c"} > 1'
