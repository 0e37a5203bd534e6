"""What the SDK sends for a route, and how it finds its way around the base URL."""

from __future__ import annotations

import pytest

from ecp_client import calls

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("given", "root", "api"),
    [
        ("http://localhost:8001/api/v1", "http://localhost:8001", "http://localhost:8001/api/v1"),
        ("http://localhost:8001/api/v1/", "http://localhost:8001", "http://localhost:8001/api/v1"),
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001", "http://127.0.0.1:8001/api/v1"),
        ("https://ecp.example/", "https://ecp.example", "https://ecp.example/api/v1"),
    ],
)
def test_base_url_may_be_given_with_or_without_the_api_prefix(given, root, api) -> None:
    assert calls.split_base_url(given) == (root, api)


def test_websocket_root_follows_the_scheme() -> None:
    assert calls.ws_root("http://h:8001") == "ws://h:8001"
    assert calls.ws_root("https://h") == "wss://h"


def test_the_mode_header_is_always_sent_and_the_key_only_when_given() -> None:
    assert calls.mode_headers(True, None) == {"X-Demo-Mode": "true"}
    assert calls.mode_headers(False, "k") == {
        "X-Demo-Mode": "false",
        "Authorization": "Bearer k",
    }


def test_a_rendered_manifest_names_its_tenant_through_its_namespace() -> None:
    labelled = 'kind: Namespace\nmetadata:\n  labels:\n    ecp.ai/tenant: "acme-1"\n'
    named_only = "kind: Namespace\nmetadata:\n  name: ecp-ai-acme-2\n"
    assert calls.tenant_of_manifest(labelled) == "acme-1"
    assert calls.tenant_of_manifest(named_only) == "acme-2"
    assert calls.tenant_of_manifest("kind: ConfigMap\n") is None


def test_validating_a_manifest_without_a_tenant_asks_for_one() -> None:
    with pytest.raises(ValueError, match="tenant_id"):
        calls.validate_manifest("kind: ConfigMap\n")
    call = calls.validate_manifest("kind: ConfigMap\n", tenant_id="acme")
    assert call.body == {"tenant_id": "acme", "manifest_content": "kind: ConfigMap\n"}


def test_ids_in_paths_are_escaped_and_unset_filters_left_out() -> None:
    assert calls.get_tenant("a/b").path == "/tenants/a%2Fb"
    assert calls.list_tenants().params == {"skip": 0, "limit": 100}
    assert calls.manifest_diff("t", 1).params == {"from": 1}
    assert calls.get_manifest("t", include_monitoring=True).params == {
        "format": "yaml",
        "include_monitoring": "true",
    }
    assert calls.get_manifest("t").text and not calls.get_manifest("t", format="json").text
