"""Render and validate a large tenant's manifest: medians of our validator beside
`kubernetes_validate.validate` on the same documents, and beside the plain path our validator
took before (PyYAML compose + jsonschema on every document), all in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import kubernetes_validate
import yaml

from bench._harness import print_table
from services.manifest.render import render, to_yaml
from services.manifest.schemas import schema_dir, schema_errors, validator_for
from services.manifest.validation import parse_documents, validate_manifest
from tests.unit.manifest.sizings import tenant

ROUNDS = 30
VERSION = "1.30"


def median_ms(work: Callable[[], Any], rounds: int = ROUNDS) -> float:
    work()  # warm: schemas compiled, caches filled
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


def kubernetes_validate_all(documents: list[dict[str, Any]]) -> None:
    for document in documents:
        try:
            kubernetes_validate.validate(document, VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            continue  # ServiceMonitor, PrometheusRule: custom resources it has no schema for


def plain_path(text: str) -> None:
    """Compose every document with its node tree, jsonschema every object (no fast path)."""
    directory = schema_dir(VERSION)
    documents, _ = parse_documents(text)
    for doc in documents:
        obj = doc.obj
        try:
            validator = validator_for(directory, obj["apiVersion"], obj["kind"])
        except LookupError:
            continue
        schema_errors(validator, obj)


def main() -> None:
    source = tenant("large")
    objects = render(source, True)
    text = to_yaml(objects)
    documents = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    assert validate_manifest(text, kubernetes_version=VERSION).valid

    render_ms = median_ms(lambda: render(source, True))
    emit_ms = median_ms(lambda: to_yaml(objects), rounds=5)
    ours_ms = median_ms(lambda: validate_manifest(text, kubernetes_version=VERSION))
    both_ms = median_ms(
        lambda: validate_manifest(to_yaml(render(source, True)), kubernetes_version=VERSION),
        rounds=5,
    )
    parse_ms = median_ms(lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)))
    plain_ms = median_ms(lambda: plain_path(text))
    k8s_ms = median_ms(lambda: kubernetes_validate_all(documents))
    k8s_total_ms = parse_ms + k8s_ms

    print(f"large tenant: {len(objects)} documents, {len(text):,} bytes of YAML")
    print_table(
        "medians, ms (baselines measured in this run)",
        [
            ("render (objects)", f"{render_ms:.2f}", "", ""),
            ("emit YAML (to_yaml)", f"{emit_ms:.2f}", "", ""),
            (
                "validate (all checks)",
                f"{ours_ms:.2f}",
                f"{k8s_total_ms:.2f} yaml+k8s-validate",
                f"{k8s_total_ms / ours_ms:.2f}x",
            ),
            (
                "validate vs plain path",
                f"{ours_ms:.2f}",
                f"{plain_ms:.2f} compose+jsonschema",
                f"{plain_ms / ours_ms:.2f}x",
            ),
            ("render + validate", f"{render_ms + ours_ms:.2f}", "", ""),
            ("render + emit + validate", f"{both_ms:.2f}", "", ""),
            ("yaml CSafeLoader load only", f"{parse_ms:.2f}", "", ""),
            ("kubernetes_validate only", f"{k8s_ms:.2f}", "", ""),
        ],
    )


if __name__ == "__main__":
    main()
