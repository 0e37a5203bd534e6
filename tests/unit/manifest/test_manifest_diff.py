"""Diffs between two revisions name the objects added, removed and changed."""

from __future__ import annotations

import pytest

from services.manifest.diff import ManifestParseError, diff_manifests, diff_summary
from services.manifest.render import render, to_yaml
from tests.unit.manifest.sizings import app, tenant

pytestmark = pytest.mark.unit


def test_the_same_sizing_at_a_new_revision_has_no_differences():
    old = to_yaml(render(tenant("small"), True))
    new = to_yaml(render(tenant("small").model_copy(update={"revision": 9}), True))
    assert diff_manifests(old, new) == []


def test_a_resized_service_shows_as_changed_with_a_unified_diff():
    base = tenant("small")
    services = [
        app("chatbot", "small", 1500, 2560) if s.service == "chatbot" else s
        for s in base.sizing.services
    ]
    resized = tenant("small", base.sizing.model_copy(update={"services": services}))
    changes = diff_manifests(to_yaml(render(base, False)), to_yaml(render(resized, False)))
    chatbot = next(c for c in changes if c["key"] == "Deployment/ecp-ai-acme-small/chatbot")
    assert chatbot["change"] == "changed"
    assert (
        "-            cpu: 1000m" in chatbot["diff"]
        and "+            cpu: 1500m" in chatbot["diff"]
    )


def test_monitoring_objects_show_as_added_and_the_summary_counts_them():
    old = to_yaml(render(tenant("micro"), False))
    new = to_yaml(render(tenant("micro"), True))
    changes = diff_manifests(old, new)
    summary = diff_summary(changes)
    assert "ServiceMonitor/ecp-ai-acme-micro/chatbot" in summary["added_objects"]
    assert "PrometheusRule/ecp-ai-acme-micro/tenant-alerts" in summary["added_objects"]
    assert summary["removed"] == 0
    assert diff_summary(diff_manifests(new, old))["removed"] == summary["added"]


def test_a_side_that_is_not_yaml_is_refused():
    with pytest.raises(ManifestParseError, match="old"):
        diff_manifests("a: [", "a: 1")
