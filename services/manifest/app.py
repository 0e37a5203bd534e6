"""Wires the manifest service: runtime and handlers."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from services.manifest import handlers
from services.manifest.schemas import fast_check_for, schema_dir
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)
# The kinds the renderer writes: their fast checks take about a second each to compile.
RENDERED_KINDS = (
    ("v1", "Namespace"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("v1", "ConfigMap"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("batch/v1", "CronJob"),
)


def compile_rendered_kinds(kubernetes_version: str) -> None:
    directory = schema_dir(kubernetes_version)
    for api_version, kind in RENDERED_KINDS:
        fast_check_for(directory, api_version, kind)


def build(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or get_settings()
    runtime = ServiceRuntime("manifest", Path(__file__).parent / "migrations", settings)
    handlers.register(runtime)
    warm: list[asyncio.Future[None]] = []

    async def start_warming() -> None:
        # In a thread, after start: the service answers at once (a validation that comes
        # before its kind is compiled compiles it itself) but reports ready only when done,
        # since the compiling holds the interpreter for several seconds.
        future = asyncio.ensure_future(
            asyncio.to_thread(compile_rendered_kinds, settings.kubernetes_version)
        )
        warm.append(future)
        runtime.warmups.append(future)

    async def stop_warming() -> None:
        for future in warm:
            future.cancel()

    runtime.on_start.append(start_warming)
    runtime.on_stop.append(stop_warming)
    return runtime
