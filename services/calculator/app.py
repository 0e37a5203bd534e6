"""Wires the calculator: catalogue, runtime, handlers."""

from __future__ import annotations

from pathlib import Path

from services.calculator import handlers
from services.calculator.catalogue import default_catalogue_path, load_catalogue
from shared.service import ServiceRuntime
from shared.settings import Settings, get_settings


def build(settings: Settings | None = None) -> ServiceRuntime:
    settings = settings or get_settings()
    catalogue = load_catalogue(settings.catalogue_path or default_catalogue_path())
    runtime = ServiceRuntime("calculator", Path(__file__).parent / "migrations", settings)
    handlers.register(runtime, catalogue)
    return runtime
