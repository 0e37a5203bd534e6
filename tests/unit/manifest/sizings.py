"""Hand-built SizingResults for four tenants, micro to large, standing in for the calculator."""

from __future__ import annotations

from services.manifest.render import TenantManifestInput
from shared.contracts.sizing import (
    AlertThresholds,
    Autoscaling,
    CostEstimate,
    GpuPlacement,
    GpuRoleSizing,
    Quota,
    Resources,
    ServiceSizing,
    SizingResult,
    Sla,
)

PORTS = {
    "callbot": 8080,
    "chatbot": 8081,
    "advisor": 8082,
    "stt": 8083,
    "tts": 8084,
    "nlp": 8085,
    "aicm": 8086,
    "ta": 8087,
    "qa": 8088,
}
HPA = {
    "micro": Autoscaling(min_replicas=1, max_replicas=3, cpu_target_percent=70),
    "small": Autoscaling(min_replicas=2, max_replicas=8, cpu_target_percent=60),
    "medium": Autoscaling(min_replicas=3, max_replicas=20, cpu_target_percent=50),
    "large": Autoscaling(min_replicas=5, max_replicas=100, cpu_target_percent=40),
}
PLACEMENT = {
    "t4": GpuPlacement(
        gpu_type="t4",
        node_selector={"ecp.ai/gpu-type": "t4"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    ),
    "l40s": GpuPlacement(
        gpu_type="l40s",
        node_selector={"ecp.ai/gpu-type": "l40s"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    ),
}


def app(name: str, preset: str, cpu: int, memory: int, kind: str = "app") -> ServiceSizing:
    """A CPU service scaled by the preset's HPA."""
    return ServiceSizing(
        service=name,
        kind=kind,
        port=PORTS[name],
        image=f"ecp-ai/{name}:1.4.2",
        replicas=HPA[preset].min_replicas,
        autoscaling=HPA[preset],
        requests=Resources(cpu_millicores=cpu, memory_mib=memory),
        limits=Resources(cpu_millicores=cpu * 4, memory_mib=memory * 4),
        load={"units": 1.0},
    )


def gpu(name: str, gpu_type: str, pods: int, gpus_per_pod: int = 1) -> ServiceSizing:
    """A GPU back end at a fixed replica count: one pod per GPU share, no HPA."""
    return ServiceSizing(
        service=name,
        kind="gpu",
        port=PORTS[name],
        image=f"ecp-ai/{name}:2.0.1",
        replicas=pods,
        autoscaling=None,
        requests=Resources(cpu_millicores=2000, memory_mib=8192, gpus=gpus_per_pod),
        limits=Resources(cpu_millicores=4000, memory_mib=16384, gpus=gpus_per_pod),
        gpu=PLACEMENT[gpu_type],
        load={"queries_per_second": 10.0},
    )


def nightly_ta() -> ServiceSizing:
    return ServiceSizing(
        service="ta",
        kind="batch",
        port=PORTS["ta"],
        image="ecp-ai/ta:1.1.0",
        replicas=1,
        autoscaling=None,
        requests=Resources(cpu_millicores=1000, memory_mib=2048),
        limits=Resources(cpu_millicores=4000, memory_mib=8192),
        schedule="0 2 * * *",
    )


def sizing_result(preset: str, gpu_type: str, services: list[ServiceSizing]) -> SizingResult:
    """Totals and a quota that covers the requests at the HPA maximum, as the calculator should."""
    cpu = memory = gpus = 0
    for s in services:
        top = s.autoscaling.max_replicas if s.autoscaling else s.replicas
        cpu += top * s.requests.cpu_millicores
        memory += top * s.requests.memory_mib
        gpus += top * s.requests.gpus
    memory_gib = -(-memory // 1024)
    roles = [
        GpuRoleSizing(
            role=role,
            gpu_type=gpu_type,
            gpus=sum(s.replicas * s.requests.gpus for s in services if s.service == role),
            load=10.0,
            load_unit="queries/s",
            capacity_per_gpu=150.0,
        )
        for role in ("tts", "nlp", "aicm")
    ]
    return SizingResult(
        preset=preset,
        preset_requested=None,
        warnings=[],
        services=services,
        gpus=roles,
        gpu_type=gpu_type,
        gpu_type_reason="fixture",
        total_requests=Resources(cpu_millicores=cpu, memory_mib=memory, gpus=gpus),
        total_limits=Resources(cpu_millicores=cpu * 4, memory_mib=memory * 4, gpus=gpus),
        quota=Quota(
            cpu_limit=f"{cpu}m",
            memory_limit=f"{memory_gib}Gi",
            gpu_limit=gpus,
            storage_limit="1Ti",
            cpu_millicores=cpu,
            memory_mib=memory_gib * 1024,
            storage_gib=1024,
        ),
        sla=Sla(availability_percent=99.5, response_time_ms=200),
        alert_thresholds=AlertThresholds(
            cpu_percent=80, memory_percent=85, gpu_percent=90, disk_percent=90, response_time_ms=500
        ),
        cost=CostEstimate(
            hours_per_month=730,
            gpu_hours=gpus * 730.0,
            gpu_monthly=gpus * 730 * 0.35,
            cpu_cores=cpu / 1000,
            cpu_monthly=0.0,
            total_monthly=gpus * 730 * 0.35,
        ),
        explain=[],
        catalogue_version="2026.11",
    )


def micro() -> SizingResult:
    return sizing_result(
        "micro", "t4", [app("chatbot", "micro", 500, 1280), gpu("nlp", "t4", pods=1)]
    )


def small() -> SizingResult:
    return sizing_result(
        "small",
        "t4",
        [
            app("callbot", "small", 2000, 5120),
            app("chatbot", "small", 1000, 2560),
            app("stt", "small", 3100, 10240),
            gpu("tts", "t4", pods=1),
            gpu("nlp", "t4", pods=1),
            gpu("aicm", "t4", pods=1),
            app("qa", "small", 500, 1024),
        ],
    )


def medium() -> SizingResult:
    return sizing_result(
        "medium",
        "t4",
        [
            app("callbot", "medium", 4000, 10240),
            app("chatbot", "medium", 4000, 10240),
            app("advisor", "medium", 3500, 8192),
            app("stt", "medium", 8000, 25600),
            gpu("tts", "t4", pods=2),
            gpu("nlp", "t4", pods=2),
            gpu("aicm", "t4", pods=1),
            nightly_ta(),
            app("qa", "medium", 1000, 2048),
        ],
    )


def large() -> SizingResult:
    return sizing_result(
        "large",
        "l40s",
        [
            app("callbot", "large", 10000, 25600),
            app("chatbot", "large", 8000, 20480),
            app("advisor", "large", 8000, 20480),
            app("stt", "large", 20000, 51200),
            gpu("tts", "l40s", pods=3, gpus_per_pod=2),
            gpu("nlp", "l40s", pods=4, gpus_per_pod=2),
            gpu("aicm", "l40s", pods=2),
            nightly_ta(),
            app("qa", "large", 2000, 4096),
        ],
    )


SIZINGS = {"micro": micro, "small": small, "medium": medium, "large": large}
GPU_PER_SERVER = {"t4": 4, "v100": 2, "l40s": 2}


def tenant(preset: str = "small", sizing: SizingResult | None = None) -> TenantManifestInput:
    return TenantManifestInput(
        tenant_id=f"acme-{preset}",
        name=f"ACME {preset} 콜센터",
        preset=preset,
        revision=3,
        sizing=sizing or SIZINGS[preset](),
    )
