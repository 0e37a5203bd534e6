"""Each kind of mistake in a manifest is reported against the object and field it is in."""

from __future__ import annotations

import copy
import time

import pytest

from services.manifest.render import render, to_yaml
from services.manifest.validation import validate_manifest
from tests.unit.manifest.sizings import GPU_PER_SERVER, tenant

pytestmark = pytest.mark.unit
NS = "ecp-ai-acme-small"


def small_objects() -> list[dict]:
    return copy.deepcopy(render(tenant("small"), True))


def find(objects: list[dict], kind: str, name: str) -> dict:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def container(objects: list[dict], name: str) -> dict:
    return find(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]


def set_unknown_field(o):
    container(o, "chatbot")["colour"] = "blue"


def set_wrong_type(o):
    find(o, "Deployment", "nlp")["spec"]["replicas"] = "three"


def drop_required_field(o):
    del container(o, "callbot")["name"]


def lower_quota(o):
    find(o, "ResourceQuota", "tenant-quota")["spec"]["hard"]["requests.cpu"] = "1000m"


def select_nothing(o):
    find(o, "Service", "stt")["spec"]["selector"] = {"app.kubernetes.io/name": "nobody"}


def target_missing_port(o):
    find(o, "Service", "stt")["spec"]["ports"][0]["targetPort"] = "grpc"


def aim_hpa_at_nothing(o):
    find(o, "HorizontalPodAutoscaler", "qa")["spec"]["scaleTargetRef"]["name"] = "qa-old"


def drop_image_tag(o):
    container(o, "qa")["image"] = "ecp-ai/qa"


def bad_quantity(o):
    container(o, "chatbot")["resources"]["requests"]["cpu"] = "2 cores"


def gpu_request_not_limit(o):
    container(o, "tts")["resources"]["limits"]["nvidia.com/gpu"] = 2


def too_many_gpus_for_a_server(o):
    resources = container(o, "nlp")["resources"]
    resources["requests"]["nvidia.com/gpu"] = resources["limits"]["nvidia.com/gpu"] = 8


def monitor_missing_port(o):
    find(o, "ServiceMonitor", "stt")["spec"]["endpoints"][0]["port"] = "metrics"


def unknown_kind(o):
    o.append({"apiVersion": "v1", "kind": "Gadget", "metadata": {"name": "g", "namespace": NS}})


C0 = "spec.template.spec.containers[0]"
MISTAKES = [
    (set_unknown_field, f"Deployment/{NS}/chatbot", f"{C0}.colour", "unknown field"),
    (set_wrong_type, f"Deployment/{NS}/nlp", "spec.replicas", "not of type 'integer'"),
    (drop_required_field, f"Deployment/{NS}/callbot", f"{C0}.name", "required"),
    (lower_quota, f"ResourceQuota/{NS}/tenant-quota", "spec.hard.requests.cpu", "below"),
    (select_nothing, f"Service/{NS}/stt", "spec.selector", "matches no"),
    (target_missing_port, f"Service/{NS}/stt", "spec.ports[0].targetPort", "'grpc'"),
    (aim_hpa_at_nothing, f"HorizontalPodAutoscaler/{NS}/qa", "spec.scaleTargetRef.name", "qa-old"),
    (drop_image_tag, f"Deployment/{NS}/qa", f"{C0}.image", "no tag"),
    (bad_quantity, f"Deployment/{NS}/chatbot", f"{C0}.resources.requests.cpu", "2 cores"),
    (
        gpu_request_not_limit,
        f"Deployment/{NS}/tts",
        f"{C0}.resources.limits.nvidia.com/gpu",
        "equal",
    ),
    (
        too_many_gpus_for_a_server,
        f"Deployment/{NS}/nlp",
        f"{C0}.resources.limits.nvidia.com/gpu",
        "server",
    ),
    (monitor_missing_port, f"ServiceMonitor/{NS}/stt", "spec.endpoints[0].port", "'metrics'"),
    (unknown_kind, f"Gadget/{NS}/g", "kind", "unknown kind 'Gadget'"),
]


@pytest.mark.parametrize(
    ("mistake", "obj", "field", "words"), MISTAKES, ids=[m[0].__name__ for m in MISTAKES]
)
def test_each_mistake_is_reported_with_its_object_and_field(mistake, obj, field, words):
    objects = small_objects()
    mistake(objects)
    text = to_yaml(objects)
    report = validate_manifest(text, catalogue_gpu_capacity=GPU_PER_SERVER)
    assert not report.valid
    matching = [e for e in report.errors if e.object == obj and e.field == field]
    assert matching, report.errors
    assert words in matching[0].message
    assert matching[0].line is not None
    assert len(report.errors) == len({(e.object, e.field) for e in report.errors})


def test_the_line_of_an_unknown_field_is_the_line_it_is_written_on():
    objects = small_objects()
    set_unknown_field(objects)
    text = to_yaml(objects)
    (issue,) = validate_manifest(text).errors
    assert issue.line is not None
    assert text.splitlines()[issue.line - 1].strip() == "colour: blue"


def test_all_schema_errors_of_a_document_are_reported_not_only_the_first():
    objects = small_objects()
    set_unknown_field(objects)
    drop_required_field(objects)
    container(objects, "chatbot")["ports"][0]["containerPort"] = "eighty"
    fields = {e.field for e in validate_manifest(to_yaml(objects)).errors}
    assert {f"{C0}.colour", f"{C0}.name", f"{C0}.ports[0].containerPort"} <= fields


def test_a_yaml_syntax_error_is_reported_with_its_line_and_column():
    text = "apiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: [ConfigMap\nmetadata: {}\n"
    report = validate_manifest(text)
    (issue,) = [e for e in report.errors if "YAML syntax" in e.message]
    assert issue.object == "document 2"
    assert issue.line is not None and issue.line >= 5
    assert issue.column is not None


def test_a_document_that_is_not_a_mapping_is_an_error_naming_the_document():
    report = validate_manifest(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n- 1\n- 2\n"
    )
    assert [(e.object, e.line) for e in report.errors] == [("document 2", 5)]


def test_gpus_beyond_the_cluster_are_an_error_and_beyond_it_at_peak_a_warning():
    text = to_yaml(render(tenant("small"), False))
    assert not validate_manifest(text, cluster_gpu_capacity=2).valid
    assert validate_manifest(text, cluster_gpu_capacity=3).valid
    large = to_yaml(render(tenant("large"), False))
    assert any("GPU" in e.message for e in validate_manifest(large, cluster_gpu_capacity=4).errors)


def test_latest_is_a_warning_and_replicas_on_an_hpa_owned_deployment_is_a_warning():
    objects = small_objects()
    container(objects, "qa")["image"] = "ecp-ai/qa:latest"
    find(objects, "Deployment", "chatbot")["spec"]["replicas"] = 2
    report = validate_manifest(to_yaml(objects))
    assert report.valid
    assert any("'latest'" in w and "/qa" in w for w in report.warnings)
    assert any("spec.replicas" in w and "/chatbot" in w for w in report.warnings)


def test_a_container_without_requests_is_a_warning():
    objects = small_objects()
    del container(objects, "qa")["resources"]["requests"]
    report = validate_manifest(to_yaml(objects))
    assert any("no resource requests" in w for w in report.warnings)


def test_custom_resources_are_shape_checked_and_flagged_as_not_schema_checked():
    objects = small_objects()
    del find(objects, "PrometheusRule", "tenant-alerts")["spec"]["groups"][0]["rules"][0]["expr"]
    report = validate_manifest(to_yaml(objects))
    assert [e.field for e in report.errors] == ["spec.groups[0].rules[0].expr"]
    assert any("PrometheusRule" in w and "custom resource" in w for w in report.warnings)


def test_the_resource_summary_adds_requests_times_minimum_replicas_and_prices_gpus():
    report = validate_manifest(
        to_yaml(render(tenant("micro"), False)), price_per_gpu_hour=0.35, price_per_core_month=None
    )
    # chatbot 1 x 500m / 1280Mi at the HPA minimum, nlp 1 x 2000m / 8Gi with one GPU
    assert report.resource_summary.total_cpu == "2500m"
    assert report.resource_summary.total_memory == "9472Mi"
    assert report.resource_summary.total_gpu == 1
    assert report.resource_summary.estimated_cost == "$256/month"


def test_validating_the_large_tenant_is_timed():
    text = to_yaml(render(tenant("large"), True))
    validate_manifest(text)  # compiles and caches the schemas
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        report = validate_manifest(text)
        runs.append((time.perf_counter() - start) * 1000)
    print(
        f"\nvalidating the large tenant ({len(text.splitlines())} lines): "
        f"best {min(runs):.1f} ms, median {sorted(runs)[2]:.1f} ms (target 20 ms)"
    )
    assert report.valid
