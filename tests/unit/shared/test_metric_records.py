"""The metrics contract's two forms, model and TypedDict, accept and refuse the same messages."""

import json

import pytest
from pydantic import ValidationError

from shared.contracts.metrics import METRIC_BATCH_RECORD, MetricBatch

GOOD_SAMPLE = {"name": "cpu_usage", "value": 1.5, "timestamp": "2026-11-26T10:00:00+00:00"}
CASES = [
    {"tenant_id": "t", "batch_id": "b", "samples": [GOOD_SAMPLE]},
    {"tenant_id": "t", "batch_id": "b", "samples": [], "source": "demo", "schema_version": 1},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "labels": {"pod": "p-1"}}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "value": 3}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "schema_version": 1}]},
    {"tenant_id": "t", "samples": [GOOD_SAMPLE]},
    {"tenant_id": "t", "batch_id": "b", "samples": [GOOD_SAMPLE], "extra": 1},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "name": "CPU usage"}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "value": "high"}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "timestamp": "yesterday"}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "labels": {"pod": 1}}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "unit": "%"}]},
]


@pytest.mark.parametrize("message", CASES)
def test_both_forms_give_the_same_verdict(message):
    """Also as the model writes itself: what the demo generator and the puller publish."""
    raw = json.dumps(message).encode()
    try:
        model = MetricBatch.model_validate_json(raw)
    except ValidationError:
        model = None
    try:
        record = METRIC_BATCH_RECORD.validate_json(raw)
    except ValidationError:
        record = None
    assert (model is None) == (record is None), message
    if model is not None and record is not None:
        assert [(s.name, s.value, s.timestamp, s.labels) for s in model.samples] == [
            (s["name"], s["value"], s["timestamp"], s.get("labels", {})) for s in record["samples"]
        ]
        assert record.get("source", "push") == model.source


def test_a_batch_as_the_model_writes_it_is_read():
    batch = MetricBatch.model_validate_json(json.dumps(CASES[2]))
    record = METRIC_BATCH_RECORD.validate_json(batch.model_dump_json())
    assert record["samples"][0]["labels"] == {"pod": "p-1"}
