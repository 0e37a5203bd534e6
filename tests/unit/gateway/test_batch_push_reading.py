"""The batch form read fast (msgspec) and by `BATCH_PUSH` (pydantic): the same verdicts, the same
values, so the fast reader never lets through what the contract refuses."""

import json

import pytest
from pydantic import ValidationError

from services.gateway.samples import BATCH_PUSH, read_batch_push

SAMPLE = {"tenant_id": "t", "name": "cpu_usage", "value": 1.5, "timestamp": "2026-11-26T10:00:00Z"}
CASES = [
    {"samples": [SAMPLE]},
    {"tenant_id": "t", "samples": [{"name": "gpu_usage", "value": 3}]},
    {"samples": [{**SAMPLE, "labels": {"pod": "p-1", "service": "callbot"}}]},
    {"samples": [{**SAMPLE, "timestamp": None, "tenant_id": None}]},
    {"samples": [{**SAMPLE, "timestamp": "2026-11-26T10:00:00"}]},
    {"samples": [{**SAMPLE, "timestamp": "2026-11-26T19:00:00+09:00"}]},
    {"samples": [{**SAMPLE, "timestamp": "2026-11-26"}]},
    {"samples": [{**SAMPLE, "timestamp": 1795700000}]},
    {"samples": [{**SAMPLE, "timestamp": "yesterday"}]},
    {"samples": [{**SAMPLE, "value": "1.5"}]},
    {"samples": [{**SAMPLE, "value": "high"}]},
    {"samples": [{**SAMPLE, "value": True}]},
    {"samples": [{**SAMPLE, "name": "CPU usage"}]},
    {"samples": [{**SAMPLE, "name": "cpu\n"}]},
    {"samples": [{**SAMPLE, "name": "c" * 64}]},
    {"samples": [{**SAMPLE, "labels": {"pod": 1}}]},
    {"samples": [{**SAMPLE, "unit": "%"}]},
    {"samples": [SAMPLE], "source": "push"},
    {"samples": []},
    {"samples": [SAMPLE] * 100_001},
    {"tenant_id": 5, "samples": [SAMPLE]},
    {"samples": "all"},
    [SAMPLE],
]
RAW_CASES = [b'{"samples": [{"name": "cpu_usage", "value": NaN, "tenant_id": "t"}]}', b"{", b""]


def verdict(reader, raw: bytes):
    try:
        return reader(raw)
    except ValidationError:
        return None


@pytest.mark.parametrize(
    "raw", [json.dumps(c).encode() for c in CASES] + RAW_CASES, ids=lambda raw: raw[:60]
)
def test_the_fast_reader_agrees_with_the_contract(raw: bytes) -> None:
    contract = verdict(BATCH_PUSH.validate_json, raw)
    fast = read_batch_push(raw)
    if fast is None:
        return  # left to the contract, whatever it says
    assert contract is not None, "the fast reader took what the contract refuses"
    assert fast["tenant_id"] == contract.get("tenant_id")
    assert len(fast["samples"]) == len(contract["samples"])
    for mine, theirs in zip(fast["samples"], contract["samples"], strict=True):
        for key in ("tenant_id", "timestamp"):
            assert mine.get(key) == theirs.get(key)
            if mine.get(key) is not None:
                assert type(mine[key]) is type(theirs[key])
        assert (mine["name"], mine["value"]) == (theirs["name"], theirs["value"])
        assert type(mine["value"]) is float
        assert mine.get("labels", {}) == theirs.get("labels", {})


def test_the_usual_batch_is_read_fast() -> None:
    body = {"samples": [{**SAMPLE, "labels": {"pod": f"p-{i}"}} for i in range(100)]}
    assert read_batch_push(json.dumps(body).encode()) is not None
