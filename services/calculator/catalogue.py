"""The sizing catalogue: the figures the calculator uses, loaded from a YAML file and validated."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from services.calculator.catalogue_entry import (
    Entry,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)
from services.calculator.cloud_prices import CloudCatalogue, CloudName
from shared.contracts.tenants import PRESETS, Preset

GpuRoleName = Literal["tts", "nlp", "aicm"]
LoadService = Literal["callbot", "chatbot", "advisor", "stt", "tts"]
UserService = Literal["callbot", "chatbot", "advisor"]


class CatalogueError(Exception):
    """The catalogue file is missing, unreadable or has a bad entry (named in the message)."""


class PodResources(Entry):
    cpu_millicores: PositiveInt
    memory_mib: PositiveInt


class PeakFactor(Entry):
    up_to_channels: int | None = Field(ge=0)  # None: every channel count above the previous step
    factor: PositiveFloat


class UnitWorkload(Entry):
    stt_channels: NonNegativeFloat
    tts_channels: NonNegativeFloat
    nlp_queries_per_day: NonNegativeFloat
    aicm_queries_per_day: NonNegativeFloat


class QaEvaluation(Entry):
    share_of_calls: float = Field(ge=0, le=1)
    share_of_chat_sessions: float = Field(ge=0, le=1)
    share_of_consultations: float = Field(ge=0, le=1)
    external_llm_share: float = Field(ge=0, le=1)
    internal_share: float = Field(ge=0, le=1)


class GpuProfile(Entry):
    tts_channels_with_cache: PositiveFloat
    tts_channels_without_cache: PositiveFloat
    nlp_queries_per_second: PositiveFloat
    aicm_queries_per_second: PositiveFloat
    gpu_memory_gib: PositiveInt
    gpus_per_server: PositiveInt
    host_cores: PositiveInt
    host_memory_gib: PositiveInt
    usd_per_gpu_hour: PositiveFloat
    power_watts: PositiveInt
    pod_requests: PodResources
    pod_limits: PodResources
    node_selector: dict[str, str] = Field(min_length=1)
    tolerations: list[dict[str, str]]

    @model_validator(mode="after")
    def pods_fit_the_host(self) -> GpuProfile:
        if self.pod_limits.cpu_millicores * self.gpus_per_server > self.host_cores * 1000:
            raise ValueError("pod_limits.cpu_millicores: pods of one server exceed host_cores")
        if self.pod_limits.memory_mib * self.gpus_per_server > self.host_memory_gib * 1024:
            raise ValueError("pod_limits.memory_mib: pods of one server exceed host_memory_gib")
        return self


def check_image(value: str) -> str:
    name, _, tag = value.rpartition(":")
    if not name or not tag or tag == "latest":
        raise ValueError("must be '<repository>:<version tag>', never 'latest'")
    return value


class Work(Entry):
    """CPU work per unit: millicores per unit, or units per core (as sizing.md states STT)."""

    cpu_millicores_per_unit: float | None = Field(default=None, gt=0)
    units_per_core: float | None = Field(default=None, gt=0)
    memory_mib_per_unit: PositiveFloat

    @model_validator(mode="after")
    def one_cpu_figure(self) -> Work:
        if (self.cpu_millicores_per_unit is None) == (self.units_per_core is None):
            raise ValueError("give exactly one of cpu_millicores_per_unit and units_per_core")
        return self

    @property
    def millicores_per_unit(self) -> float:
        if self.cpu_millicores_per_unit is not None:
            return self.cpu_millicores_per_unit
        assert self.units_per_core is not None
        return 1000 / self.units_per_core


class CpuService(Entry):
    kind: Literal["app", "batch"]
    port: int = Field(ge=1, le=65535)
    image: str
    requests: PodResources
    limits: PodResources
    work: Work | None = None  # app services
    schedule: str | None = None  # batch services
    batch_factor: float | None = Field(default=None, gt=0)
    lines_per_second: float | None = Field(default=None, gt=0)

    @field_validator("image")
    @classmethod
    def image_has_a_version(cls, value: str) -> str:
        return check_image(value)

    @model_validator(mode="after")
    def kind_has_its_figures(self) -> CpuService:
        if self.kind == "app" and self.work is None:
            raise ValueError("work: required for an app service")
        if self.kind == "batch" and (self.schedule is None or self.batch_factor is None):
            raise ValueError("schedule and batch_factor: required for a batch service")
        if self.limits.cpu_millicores < self.requests.cpu_millicores:
            raise ValueError("limits.cpu_millicores: must be >= requests.cpu_millicores")
        if self.limits.memory_mib < self.requests.memory_mib:
            raise ValueError("limits.memory_mib: must be >= requests.memory_mib")
        return self


class GpuService(Entry):
    port: int = Field(ge=1, le=65535)
    image: str

    @field_validator("image")
    @classmethod
    def image_has_a_version(cls, value: str) -> str:
        return check_image(value)


class InfraComponent(Entry):
    base_cores: NonNegativeFloat
    memory_gib_per_core: PositiveFloat
    cores_per_unit: dict[UserService, float]


class Infrastructure(Entry):
    load_share: float = Field(ge=0, le=1)
    components: dict[str, InfraComponent]


class Storage(Entry):
    minimum_gib: PositiveInt
    gib_per_user: NonNegativeInt
    user_services: list[UserService]


class PresetLimits(Entry):
    cpu_millicores: PositiveInt
    memory_mib: PositiveInt
    gpus: NonNegativeInt


class PresetHpa(Entry):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)
    cpu_target_percent: int = Field(ge=1, le=100)


class PresetSla(Entry):
    availability_percent: float = Field(gt=0, le=100)
    response_time_ms: PositiveFloat


class PresetFigures(Entry):
    name: Preset
    max_channels: int | None = Field(gt=0)  # exclusive; None for the last preset
    max_users: int | None = Field(gt=0)
    limits: PresetLimits
    hpa: PresetHpa
    sla: PresetSla


class AlertDefaults(Entry):
    cpu_percent: float = Field(gt=0, le=100)
    memory_percent: float = Field(gt=0, le=100)
    gpu_percent: float = Field(gt=0, le=100)
    disk_percent: float = Field(gt=0, le=100)
    response_time_ms: PositiveFloat


class Catalogue(Entry):
    version: str = Field(min_length=1)
    hours_per_month: PositiveFloat
    krw_per_usd: PositiveFloat
    busy_seconds_per_day: int = Field(gt=0, le=86400)
    cpu_core_month_usd: PositiveFloat
    peak_factors: list[PeakFactor] = Field(min_length=1)
    workload_per_unit: dict[LoadService, UnitWorkload]
    qa_evaluation: QaEvaluation
    tts_capacity: Literal["with_cache", "without_cache"]
    gpu_profiles: dict[str, GpuProfile] = Field(min_length=1)
    services: dict[Literal["callbot", "chatbot", "advisor", "stt", "ta", "qa"], CpuService]
    gpu_services: dict[GpuRoleName, GpuService]
    infrastructure: Infrastructure
    storage: Storage
    presets: list[PresetFigures]
    alert_thresholds: AlertDefaults
    clouds: dict[CloudName, CloudCatalogue]

    @model_validator(mode="after")
    def entries_agree(self) -> Catalogue:
        if self.peak_factors[-1].up_to_channels is not None:
            raise ValueError("peak_factors: the last step must have up_to_channels null")
        if tuple(p.name for p in self.presets) != PRESETS:
            raise ValueError(f"presets: must be {', '.join(PRESETS)} in that order")
        if self.presets[-1].max_channels is not None or self.presets[-1].max_users is not None:
            raise ValueError("presets.large: max_channels and max_users must be null")
        for name in ("callbot", "chatbot", "advisor", "stt", "ta", "qa"):
            if name not in self.services:
                raise ValueError(f"services.{name}: missing")
        for role in ("tts", "nlp", "aicm"):
            if role not in self.gpu_services:
                raise ValueError(f"gpu_services.{role}: missing")
        for cloud_name, cloud in self.clouds.items():
            for gpu_type in cloud.gpu_families:
                if gpu_type not in self.gpu_profiles:
                    where = f"clouds.{cloud_name}.gpu_families.{gpu_type}"
                    raise ValueError(f"{where}: no such gpu profile")
        return self

    def preset(self, name: Preset) -> PresetFigures:
        return next(p for p in self.presets if p.name == name)


def default_catalogue_path() -> Path:
    return Path(__file__).with_name("catalogue.yaml")


def load_catalogue(path: Path | str) -> Catalogue:
    try:
        raw: Any = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogueError(f"{path}: the catalogue must be a mapping")
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        raise CatalogueError("; ".join(describe(e) for e in exc.errors())) from exc


def describe(error: Any) -> str:
    """One validation error as `path.to.entry: what is wrong`."""
    where = ".".join(str(part) for part in error["loc"])
    context = error.get("ctx") or {}
    kind = error["type"]
    if kind == "greater_than":
        what = f"must be > {context['gt']}"
    elif kind == "greater_than_equal":
        what = f"must be >= {context['ge']}"
    elif kind == "less_than_equal":
        what = f"must be <= {context['le']}"
    elif kind == "missing":
        what = "is required"
    elif kind == "extra_forbidden":
        what = "unknown entry"
    else:
        what = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {what}" if where else what
