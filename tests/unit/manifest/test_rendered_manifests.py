"""Rendered manifests are valid, complete, deterministic and carry the sizing."""

from __future__ import annotations

import hashlib
import json

import pytest
import yaml

from services.manifest.naming import HASH_ANNOTATION, REVISION_ANNOTATION
from services.manifest.render import (
    RenderError,
    content_hash,
    render,
    render_both,
    to_json,
    to_yaml,
)
from services.manifest.validation import validate_manifest
from shared.quantities import cpu_millicores, memory_mib, parse_quantity
from tests.unit.manifest.sizings import GPU_PER_SERVER, SIZINGS, app, sizing_result, tenant

pytestmark = pytest.mark.unit
PRESETS = list(SIZINGS)


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("monitoring", [True, False])
def test_every_rendered_manifest_validates_with_no_errors_in_strict_mode(preset, monitoring):
    text = to_yaml(render(tenant(preset), monitoring))
    report = validate_manifest(
        text,
        catalogue_gpu_capacity=GPU_PER_SERVER,
        cluster_gpu_capacity=64,
        price_per_gpu_hour=0.35,
    )
    assert report.errors == []
    assert report.valid
    assert not [w for w in report.warnings if "custom resource" not in w]


@pytest.mark.parametrize("preset", PRESETS)
def test_yaml_round_trips_into_the_exact_objects(preset):
    objects = render(tenant(preset), True)
    assert list(yaml.safe_load_all(to_yaml(objects))) == objects
    assert json.loads(to_json(objects)) == {"apiVersion": "v1", "kind": "List", "items": objects}


def test_rendering_twice_gives_the_same_bytes():
    assert to_yaml(render(tenant("large"), True)) == to_yaml(render(tenant("large"), True))
    assert to_json(render(tenant("large"), True)) == to_json(render(tenant("large"), True))


def test_every_object_carries_the_manifest_hash_and_revision():
    objects = render(tenant("medium"), True)
    digest = content_hash(objects)
    for obj in objects:
        assert obj["metadata"]["annotations"][HASH_ANNOTATION] == digest
        assert obj["metadata"]["annotations"][REVISION_ANNOTATION] == "3"


def test_the_hash_changes_when_sizing_changes_but_not_with_the_revision():
    base = tenant("small")
    bigger = base.sizing.model_copy(
        update={"services": [app("chatbot", "small", 1200, 2560), *base.sizing.services[1:]]}
    )
    rehashed = content_hash(render(tenant("small", bigger), False))
    assert rehashed != content_hash(render(base, False))
    next_revision = base.model_copy(update={"revision": 4})
    assert content_hash(render(next_revision, False)) == content_hash(render(base, False))


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("monitoring", [True, False])
def test_the_hash_is_the_one_earlier_releases_wrote(preset, monitoring):
    """Deployed manifests carry hashes made with the standard library's canonical JSON: the same
    objects must hash the same, or every tenant would look changed after an upgrade."""
    objects = render(tenant(preset), monitoring)
    stripped = [
        {
            **o,
            "metadata": {
                **{k: v for k, v in o["metadata"].items() if k != "annotations"},
                **(
                    {"annotations": kept}
                    if (
                        kept := {
                            k: v
                            for k, v in o["metadata"]["annotations"].items()
                            if k not in (HASH_ANNOTATION, REVISION_ANNOTATION)
                        }
                    )
                    else {}
                ),
            },
        }
        for o in objects
    ]
    standard = json.dumps(stripped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert content_hash(objects) == hashlib.sha256(standard.encode()).hexdigest()


@pytest.mark.parametrize("preset", PRESETS)
def test_the_quota_covers_the_requests_at_rest(preset):
    objects = render(tenant(preset), False)
    hard = of_kind(objects, "ResourceQuota")[0]["spec"]["hard"]
    sizing = tenant(preset).sizing
    cpu = sum(
        (s.autoscaling.min_replicas if s.autoscaling else s.replicas) * s.requests.cpu_millicores
        for s in sizing.services
    )
    memory = sum(
        (s.autoscaling.min_replicas if s.autoscaling else s.replicas) * s.requests.memory_mib
        for s in sizing.services
    )
    assert cpu_millicores(hard["requests.cpu"]) >= cpu
    assert memory_mib(hard["requests.memory"]) >= memory
    assert parse_quantity(hard["requests.nvidia.com/gpu"]) == sizing.quota.gpu_limit


@pytest.mark.parametrize("preset", PRESETS)
def test_no_deployment_owned_by_an_hpa_sets_replicas(preset):
    objects = render(tenant(preset), False)
    scaled = {
        h["spec"]["scaleTargetRef"]["name"] for h in of_kind(objects, "HorizontalPodAutoscaler")
    }
    assert scaled
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        assert ("replicas" in deployment["spec"]) is (name not in scaled)


def test_a_fixed_size_deployment_gets_the_sized_replica_count():
    objects = render(tenant("large"), False)
    nlp = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "nlp")
    assert nlp["spec"]["replicas"] == 4


def test_services_with_zero_count_are_absent():
    sized = tenant("small").sizing
    zeroed = [
        s.model_copy(update={"replicas": 0, "autoscaling": None}) if s.service == "qa" else s
        for s in sized.services
    ]
    objects = render(tenant("small", sized.model_copy(update={"services": zeroed})), True)
    assert not [o for o in objects if o["metadata"]["name"] == "qa"]
    assert "QA_URL" not in of_kind(objects, "ConfigMap")[0]["data"]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_service_port_equals_its_container_port(preset):
    objects = render(tenant(preset), True)
    sized = {s.service: s.port for s in tenant(preset).sizing.services}
    for service in of_kind(objects, "Service"):
        name = service["metadata"]["name"]
        deployment = next(
            d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == name
        )
        container_port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]
        (port,) = service["spec"]["ports"]
        assert port["port"] == container_port["containerPort"] == sized[name]
        assert port["targetPort"] == container_port["name"]
    assert len({s["spec"]["ports"][0]["port"] for s in of_kind(objects, "Service")}) > 1


def test_service_monitors_scrape_a_port_their_service_has():
    objects = render(tenant("medium"), True)
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    for monitor in of_kind(objects, "ServiceMonitor"):
        ports = {p["name"] for p in services[monitor["metadata"]["name"]]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports


def test_gpu_pods_ask_for_gpus_in_requests_and_limits_and_land_on_gpu_nodes():
    objects = render(tenant("large"), False)
    tts = next(d for d in of_kind(objects, "Deployment") if d["metadata"]["name"] == "tts")
    pod = tts["spec"]["template"]["spec"]
    resources = pod["containers"][0]["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == 2
    assert pod["nodeSelector"] == {"ecp.ai/gpu-type": "l40s"}
    assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"


def test_batch_work_becomes_a_cron_job_without_service_or_autoscaler():
    objects = render(tenant("medium"), True)
    (job,) = of_kind(objects, "CronJob")
    assert job["spec"]["schedule"] == "0 2 * * *"
    assert not [o for o in objects if o["metadata"]["name"] == "ta" and o["kind"] != "CronJob"]


def test_containers_run_restricted_and_read_credentials_only_from_the_secret():
    objects = render(tenant("small"), False)
    assert not of_kind(objects, "Secret")
    for deployment in of_kind(objects, "Deployment"):
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        security = container["securityContext"]
        assert security["runAsNonRoot"] and security["readOnlyRootFilesystem"]
        assert security["capabilities"] == {"drop": ["ALL"]}
        secret = container["envFrom"][1]["secretRef"]
        assert secret == {"name": "acme-small-credentials", "optional": True}
        assert not container["image"].endswith(":latest")


def test_an_image_without_a_pinned_tag_is_refused():
    untagged = app("chatbot", "micro", 500, 1024).model_copy(update={"image": "ecp-ai/chatbot"})
    with pytest.raises(RenderError, match="pinned tag"):
        render(tenant("micro", sizing_result("micro", "t4", [untagged])), False)


@pytest.mark.parametrize("preset", PRESETS)
def test_both_variants_rendered_together_are_those_rendered_apart(preset):
    plain, monitored = render_both(tenant(preset))
    assert plain == render(tenant(preset), False)
    assert monitored == render(tenant(preset), True)
    # The variants share objects but not the annotations each stamps with its own hash.
    assert plain[0]["metadata"]["annotations"] != monitored[0]["metadata"]["annotations"]
    assert json.dumps(plain) == json.dumps(render(tenant(preset), False))
