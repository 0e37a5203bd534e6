"""Reading Prometheus instant-query answers as per-tenant values."""

import pytest

from services.monitor.prometheus_pull import PULL_QUERIES, PrometheusAnswerError, pulled_values

pytestmark = pytest.mark.unit


def answer(*series):
    return {"status": "success", "data": {"resultType": "vector", "result": list(series)}}


def test_each_series_with_a_tenant_is_one_value():
    values = pulled_values(
        "cpu_cores",
        answer(
            {"metric": {"tenant_id": "acme"}, "value": [1700000000.5, "0.25"]},
            {"metric": {"tenant_id": "beta"}, "value": [1700000000.5, "2"]},
        ),
    )
    assert [(v.tenant_id, v.value) for v in values] == [("acme", 0.25), ("beta", 2.0)]
    assert values[0].timestamp.timestamp() == 1700000000.5


def test_series_without_a_tenant_or_with_nan_are_skipped():
    values = pulled_values(
        "gpu_usage",
        answer(
            {"metric": {}, "value": [1, "1"]},
            {"metric": {"tenant_id": "acme"}, "value": [1, "NaN"]},
        ),
    )
    assert values == []


def test_an_error_answer_is_reported():
    with pytest.raises(PrometheusAnswerError, match="bad_data"):
        pulled_values("x", {"status": "error", "errorType": "bad_data", "error": "parse error"})


def test_every_query_groups_by_tenant():
    assert all("by (tenant_id)" in query for query in PULL_QUERIES.values())
