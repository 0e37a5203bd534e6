"""Wires the deployer service: the virtual cluster (demo), the Kubernetes API (prod), handlers."""

from __future__ import annotations

from pathlib import Path

from services.deployer import handlers
from services.deployer.demo_target import DemoTarget
from services.deployer.kube_target import KubeTarget
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings


def build(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or get_settings()
    runtime = ServiceRuntime("deployer", Path(__file__).parent / "migrations", settings)
    demo = DemoTarget(runtime.db, settings)
    kube = KubeTarget(settings)
    handlers.register(runtime, demo, kube)
    # The cluster row must exist before the first placement locks it (after migrations ran).
    runtime.on_start.insert(0, demo.prepare)
    return runtime
