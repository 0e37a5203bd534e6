"""NetworkPolicies: deny by default, then open DNS, front ingress and app-to-back-end traffic."""

from __future__ import annotations

from typing import Any

from services.manifest.naming import (
    BACK_END_SERVICES,
    FRONT_SERVICES,
    TenantManifestInput,
    metadata,
    namespace_for,
    tenant_labels,
)
from services.manifest.workloads import is_deployed, is_scheduled_batch
from shared.contracts.sizing import ServiceSizing

Obj = dict[str, Any]
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# QA sends most evaluations to an external LLM: it alone may leave the cluster, over HTTPS.
EXTERNAL_EGRESS_SERVICES = ("qa",)
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]


def _policy(tenant: TenantManifestInput, name: str, spec: Obj) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(
            name, tenant_labels(tenant, "network-policy"), namespace_for(tenant.tenant_id)
        ),
        "spec": spec,
    }


def _pods_of(services: list[str]) -> Obj:
    return {"matchExpressions": [{"key": "ecp.ai/service", "operator": "In", "values": services}]}


def _namespace(name: str) -> Obj:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}}


def _ports(sized: list[ServiceSizing]) -> list[Obj]:
    return [{"protocol": "TCP", "port": s.port} for s in sized]


def _running(tenant: TenantManifestInput) -> list[ServiceSizing]:
    return [s for s in tenant.sizing.services if is_deployed(s)]


def network_policies(tenant: TenantManifestInput, include_monitoring: bool) -> list[Obj]:
    running = _running(tenant)
    tenant_pods = {"matchLabels": {"ecp.ai/tenant": tenant.tenant_id}}
    policies = [
        _policy(tenant, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
        _policy(
            tenant,
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                **_namespace("kube-system"),
                                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                            }
                        ],
                        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                    }
                ],
            },
        ),
    ]
    front = [s for s in running if s.service in FRONT_SERVICES and not is_scheduled_batch(s)]
    if front:
        policies.append(
            _policy(
                tenant,
                "allow-ingress-to-front",
                {
                    "podSelector": _pods_of([s.service for s in front]),
                    "policyTypes": ["Ingress"],
                    "ingress": [
                        {"from": [_namespace(tenant.ingress_namespace)], "ports": _ports(front)}
                    ],
                },
            )
        )
    back = [s for s in running if s.service in BACK_END_SERVICES and not is_scheduled_batch(s)]
    if back:
        policies.extend(_back_end_policies(tenant, back, tenant_pods))
    external = [s.service for s in running if s.service in EXTERNAL_EGRESS_SERVICES]
    if external:
        policies.append(_external_egress(tenant, external))
    if include_monitoring:
        scraped = [s for s in running if not is_scheduled_batch(s)]
        if scraped:
            policies.append(_prometheus_scrape(tenant, scraped, tenant_pods))
    return policies


def _back_end_policies(
    tenant: TenantManifestInput, back: list[ServiceSizing], tenant_pods: Obj
) -> list[Obj]:
    back_pods = _pods_of([s.service for s in back])
    return [
        _policy(
            tenant,
            "allow-app-to-back-ends-ingress",
            {
                "podSelector": back_pods,
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": tenant_pods}], "ports": _ports(back)}],
            },
        ),
        _policy(
            tenant,
            "allow-app-to-back-ends-egress",
            {
                "podSelector": tenant_pods,
                "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": back_pods}], "ports": _ports(back)}],
            },
        ),
    ]


def _external_egress(tenant: TenantManifestInput, services: list[str]) -> Obj:
    return _policy(
        tenant,
        "allow-external-https",
        {
            "podSelector": _pods_of(services),
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}],
                    "ports": [{"protocol": "TCP", "port": 443}],
                }
            ],
        },
    )


def _prometheus_scrape(
    tenant: TenantManifestInput, scraped: list[ServiceSizing], tenant_pods: Obj
) -> Obj:
    return _policy(
        tenant,
        "allow-prometheus-scrape",
        {
            "podSelector": tenant_pods,
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [_namespace(tenant.monitoring_namespace)], "ports": _ports(scraped)}
            ],
        },
    )
