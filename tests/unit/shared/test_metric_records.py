"""The metrics contract's forms, model, TypedDict and the fast reader, accept and refuse the same
messages and read the same values."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts.metrics import (
    METRIC_BATCH_RECORD,
    CheckedBatch,
    MetricBatch,
    checked_metric_batch,
    read_metric_batch,
    read_metric_points,
    stored_metric_batch,
)

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
    # forms the fast reader leaves to pydantic, and names only pydantic's regex engine refuses
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "value": "1.5"}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "timestamp": 1790000000}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "timestamp": "2026-11-26"}]},
    {
        "tenant_id": "t",
        "batch_id": "b",
        "samples": [{**GOOD_SAMPLE, "timestamp": "2026-11-26T10:00:00Z"}],
    },
    {
        "tenant_id": "t",
        "batch_id": "b",
        "samples": [{**GOOD_SAMPLE, "timestamp": "2026-11-26T10:00:00"}],
    },
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "name": "cpu\n"}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "name": "c" * 64}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "value": True}]},
    {"tenant_id": "t", "batch_id": "b", "samples": [GOOD_SAMPLE], "schema_version": 1.0},
    {"tenant_id": 7, "batch_id": "b", "samples": [GOOD_SAMPLE]},
]


def read_or_none(read: Callable[[bytes], Any], raw: bytes) -> Any:
    """What a reader gives, or None when it refuses the message."""
    try:
        return read(raw)
    except ValidationError:
        return None


@pytest.mark.parametrize("message", CASES)
def test_both_forms_give_the_same_verdict(message):
    """Also as the model writes itself: what the demo generator and the puller publish."""
    raw = json.dumps(message).encode()
    model = read_or_none(MetricBatch.model_validate_json, raw)
    record = read_or_none(METRIC_BATCH_RECORD.validate_json, raw)
    fast = read_or_none(read_metric_batch, raw)
    assert (model is None) == (record is None) == (fast is None), message
    if model is not None and record is not None and fast is not None:
        read = [(s.name, s.value, s.timestamp, s.labels) for s in model.samples]
        assert read == [
            (s["name"], s["value"], s["timestamp"], s.get("labels", {})) for s in record["samples"]
        ]
        assert read == [
            (s["name"], s["value"], s["timestamp"], s.get("labels", {})) for s in fast["samples"]
        ]
        for sample in fast["samples"]:
            assert type(sample["value"]) is float
        assert record.get("source", "push") == model.source == fast.get("source", "push")


@pytest.mark.parametrize("message", CASES)
def test_the_points_reader_gives_the_records_verdict_and_values(message):
    """What the alerts evaluator reads: the same samples, each time as seconds since the epoch."""
    raw = json.dumps(message).encode()
    record = read_or_none(METRIC_BATCH_RECORD.validate_json, raw)
    read = read_or_none(read_metric_points, raw)
    assert (read is None) == (record is None), message
    if read is None:
        return
    tenant_id, points = read
    assert tenant_id == record["tenant_id"]
    assert points == [
        (s["name"], s["timestamp"].timestamp(), s["value"]) for s in record["samples"]
    ]


def test_a_batch_as_the_model_writes_it_is_read():
    batch = MetricBatch.model_validate_json(json.dumps(CASES[2]))
    record = METRIC_BATCH_RECORD.validate_json(batch.model_dump_json())
    assert record["samples"][0]["labels"] == {"pod": "p-1"}
    fast = read_metric_batch(batch.model_dump_json().encode())
    assert fast["samples"][0]["labels"] == {"pod": "p-1"}
    assert fast["samples"][0]["timestamp"] == record["samples"][0]["timestamp"]


@pytest.mark.parametrize("message", CASES)
def test_a_batch_left_to_postgres_is_one_the_contract_accepts(message):
    raw = json.dumps(message).encode()
    checked = checked_metric_batch(raw)
    if checked is None:
        return  # read in Python instead
    model = MetricBatch.model_validate_json(raw)
    assert checked.moments == {s.timestamp for s in model.samples}
    assert (checked.tenant_id, checked.batch_id, checked.source, checked.sample_count) == (
        model.tenant_id,
        model.batch_id,
        model.source,
        len(model.samples),
    )


@pytest.mark.parametrize(
    "stamp",
    ["2026-11-26T10:00:00", "2026-11-26", "2026-11-26T10:00:00.1234567Z", "2026-11-26 10:00:00Z",
     "2026-02-30T10:00:00Z", "1790000000", "2026-11-26T10:00:00+0900"],
)  # fmt: skip
def test_timestamps_postgres_might_read_otherwise_are_left_to_python(stamp):
    raw = json.dumps(
        {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "timestamp": stamp}]}
    )
    assert checked_metric_batch(raw.encode()) is None


def test_the_usual_message_is_left_to_postgres():
    for stamp in (
        "2026-11-26T10:00:00+00:00",
        "2026-11-26T10:00:00.5Z",
        "2026-11-26T19:00:00+09:00",
    ):
        raw = json.dumps(
            {"tenant_id": "t", "batch_id": "b", "samples": [{**GOOD_SAMPLE, "timestamp": stamp}]}
        )
        assert checked_metric_batch(raw.encode()) is not None


@pytest.mark.parametrize("message", CASES)
def test_the_monitor_reads_each_message_once_with_the_same_verdict(message):
    raw = json.dumps(message).encode()
    try:
        stored = stored_metric_batch(raw)
    except ValidationError:
        stored = None
    try:
        record = read_metric_batch(raw)
    except ValidationError:
        record = None
    assert (stored is None) == (record is None)
    if stored is not None:
        assert isinstance(stored, CheckedBatch) == (checked_metric_batch(raw) is not None)
        if not isinstance(stored, CheckedBatch):
            assert stored == record
