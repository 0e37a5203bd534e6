"""The catalogue's cloud prices: instances per cloud and the management fee per preset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from services.calculator.catalogue_entry import (
    Entry,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)
from shared.contracts.tenants import PRESETS, Preset

CloudName = Literal["aws", "ncp"]


class FeeTier(Entry):
    presets: list[Preset] = Field(min_length=1)
    percent: float = Field(ge=0, le=100)
    minimum_krw: NonNegativeFloat


class Instance(Entry):
    name: str
    family: str
    vcpus: PositiveInt
    memory_gib: PositiveInt
    gpus: NonNegativeInt
    gpu_model: str | None
    monthly_price: PositiveFloat


class CloudCatalogue(Entry):
    currency: Literal["USD", "KRW"]
    gpu_families: dict[str, str]  # catalogue GPU type -> instance family
    cpu_family: str
    management_fee_tiers: list[FeeTier]
    instances: list[Instance]

    @model_validator(mode="after")
    def families_exist(self) -> CloudCatalogue:
        families = {i.family for i in self.instances}
        for gpu_type, family in self.gpu_families.items():
            if family not in families:
                raise ValueError(f"gpu_families.{gpu_type}: no instance of family {family!r}")
        if self.cpu_family not in families:
            raise ValueError(f"cpu_family: no instance of family {self.cpu_family!r}")
        tiered = [p for tier in self.management_fee_tiers for p in tier.presets]
        if sorted(tiered) != sorted(PRESETS):
            raise ValueError("management_fee_tiers: must name every preset exactly once")
        return self
