"""Wires the deployer service: runtime and handlers."""

from __future__ import annotations

from pathlib import Path

from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings


def build(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or get_settings()
    return ServiceRuntime("deployer", Path(__file__).parent / "migrations", settings)
