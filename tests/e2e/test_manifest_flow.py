"""A tenant's manifest through the HTTP API: download, revisions, diff after a change, validation."""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml

from services.manifest.validation import validate_manifest
from tests.support.system import RunningSystem

DEMO = {"X-Demo-Mode": "true"}
REQUIREMENTS = {"callbot": 50, "chatbot": 30}


@pytest.fixture
def client(system: RunningSystem) -> httpx.Client:
    return httpx.Client(base_url=f"{system.base_url}/api/v1/tenants", headers=DEMO, timeout=30)


@pytest.fixture
def tenant(client: httpx.Client) -> str:
    tid = f"t-{uuid4().hex[:8]}"
    created = client.post(
        "/",
        json={
            "tenant_id": tid,
            "name": "매니페스트 테스트",
            "service_requirements": REQUIREMENTS,
            "sla_target": {"availability": "99.9%", "response_time": "200ms"},
        },
    )
    assert created.status_code == 201, created.text
    return tid


def wait_for_revision(client: httpx.Client, tid: str, revision: int) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = client.get(f"/{tid}/manifest/revisions")
        if listed.status_code == 200 and listed.json()["latest"] >= revision:
            body: dict[str, Any] = listed.json()
            return body
        time.sleep(0.2)
    raise AssertionError(f"revision {revision} of {tid} was never rendered")


def test_a_created_tenant_has_a_manifest_kubectl_accepts_in_yaml_and_json(
    client: httpx.Client, tenant: str
) -> None:
    reply = client.get(f"/{tenant}/manifest", headers={"X-Debug": "true"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/yaml")
    assert "X-Debug-Info" in reply.headers and "X-Debug-Manifest" in reply.headers
    documents = list(yaml.safe_load_all(reply.text))
    assert documents[0]["kind"] == "Namespace"
    assert documents[0]["metadata"]["name"] == f"ecp-ai-{tenant}"
    assert validate_manifest(reply.text).valid
    again = client.get(f"/{tenant}/manifest")
    assert again.content == reply.content  # the same bytes every time

    as_json = client.get(f"/{tenant}/manifest", params={"format": "json"})
    assert as_json.headers["content-type"].startswith("application/json")
    listed = as_json.json()
    assert listed["kind"] == "List" and listed["items"] == documents

    monitored = client.get(f"/{tenant}/manifest", params={"include_monitoring": "true"})
    kinds = {doc["kind"] for doc in yaml.safe_load_all(monitored.text)}
    assert {"ServiceMonitor", "PrometheusRule"} <= kinds
    assert "ServiceMonitor" not in {doc["kind"] for doc in documents}


def test_a_changed_tenant_gets_a_new_revision_and_a_diff_naming_what_changed(
    client: httpx.Client, tenant: str
) -> None:
    first = wait_for_revision(client, tenant, 1)
    assert [entry["revision"] for entry in first["revisions"]] == [1]
    assert first["revisions"][0]["object_counts"]["Deployment"] >= 2
    changed = client.patch(
        f"/{tenant}", json={"service_requirements": {**REQUIREMENTS, "advisor": 20}}
    )
    assert changed.status_code == 200, changed.text
    second = wait_for_revision(client, tenant, 2)
    assert [entry["revision"] for entry in second["revisions"]] == [2, 1]

    diff = client.get(f"/{tenant}/manifest/diff")
    assert diff.status_code == 200, diff.text
    body = diff.json()
    assert (body["from_revision"], body["to_revision"]) == (1, 2)
    assert f"Deployment/ecp-ai-{tenant}/advisor" in body["summary"]["added_objects"]
    old = client.get(f"/{tenant}/manifest", params={"revision": 1})
    assert old.headers["X-Manifest-Revision"] == "1"
    missing = client.get(f"/{tenant}/manifest", params={"revision": 9})
    assert missing.status_code == 404 and missing.json()["code"] == "REVISION_NOT_FOUND"


def test_the_downloaded_manifest_validates_and_a_broken_one_names_object_and_field(
    client: httpx.Client, tenant: str
) -> None:
    text = client.get(f"/{tenant}/manifest").text
    good = client.post("/validate-manifest", json={"tenant_id": tenant, "manifest_content": text})
    assert good.status_code == 200, good.text
    report = good.json()
    assert report["valid"] is True and report["errors"] == []
    summary = report["resource_summary"]
    assert summary["total_cpu"].endswith("m") and summary["estimated_cost"].startswith("$")

    documents = list(yaml.safe_load_all(text))
    deployment = next(doc for doc in documents if doc["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["colour"] = "blue"
    broken = yaml.safe_dump_all(documents, sort_keys=False)
    bad = client.post("/validate-manifest", json={"tenant_id": tenant, "manifest_content": broken})
    assert bad.status_code == 200
    errors = bad.json()["errors"]
    name = deployment["metadata"]["name"]
    assert any(
        e["object"] == f"Deployment/ecp-ai-{tenant}/{name}"
        and e["field"] == "spec.template.spec.containers[0].colour"
        for e in errors
    ), errors
    assert bad.json()["valid"] is False


def test_text_that_is_not_yaml_is_an_answer_and_bad_requests_are_problems(
    client: httpx.Client,
) -> None:
    not_yaml = client.post(
        "/validate-manifest",
        json={"tenant_id": "t-any", "manifest_content": "kind: Pod\nmetadata: {name: [x\n"},
    )
    assert not_yaml.status_code == 200
    assert not_yaml.json()["valid"] is False and not_yaml.json()["errors"][0]["line"] >= 2

    not_json = client.post(
        "/validate-manifest", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["code"] == "INVALID_JSON"
    missing = client.post("/validate-manifest", json={"tenant_id": "t-any"})
    assert missing.status_code == 422
    assert missing.headers["content-type"].startswith("application/problem+json")
    huge = "# filler\n" * (2 * 1024 * 1024 // 9 + 1)
    too_large = client.post(
        "/validate-manifest", json={"tenant_id": "t-any", "manifest_content": huge}
    )
    assert too_large.status_code == 413 and too_large.json()["code"] == "MANIFEST_TOO_LARGE"
    old_version = client.post(
        "/validate-manifest",
        json={"tenant_id": "t-any", "manifest_content": "", "kubernetes_version": "1.2"},
    )
    assert old_version.status_code == 422


def test_a_large_manifest_travels_compressed_and_is_validated(client: httpx.Client) -> None:
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}}
    text = "".join(
        "---\n" + json.dumps({**document, "metadata": {"name": f"cm-{i}"}}) + "\n"
        for i in range(1000)
    )
    assert len(text) > 64 * 1024  # above the size the gateway compresses from
    reply = client.post("/validate-manifest", json={"tenant_id": "t-any", "manifest_content": text})
    assert reply.status_code == 200, reply.text
    assert reply.json()["valid"] is True


def test_unknown_and_deleted_tenants_have_no_manifest(client: httpx.Client, tenant: str) -> None:
    unknown = client.get(f"/t-{uuid4().hex[:8]}/manifest")
    assert unknown.status_code == 404 and unknown.json()["code"] == "TENANT_NOT_FOUND"
    wait_for_revision(client, tenant, 1)
    assert client.delete(f"/{tenant}").status_code in (200, 202)
    deadline = time.monotonic() + 20
    while client.get(f"/{tenant}/manifest").status_code != 404:
        assert time.monotonic() < deadline, "the deleted tenant's manifest is still served"
        time.sleep(0.2)
    assert client.get(f"/{tenant}/manifest").json()["code"] == "TENANT_NOT_FOUND"
