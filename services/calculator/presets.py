"""The preset a load falls in, and how a requested preset combines with it."""

from __future__ import annotations

from services.calculator.catalogue import Catalogue
from shared.contracts.sizing import ExplainStep
from shared.contracts.tenants import PRESETS, Preset, ServiceRequirements

CHANNEL_SERVICES = ("callbot", "advisor", "stt", "tts")


def channels_and_users(requirements: ServiceRequirements) -> tuple[int, int]:
    units = requirements.model_dump()
    return sum(units[name] for name in CHANNEL_SERVICES), requirements.chatbot


def preset_for_load(channels: int, users: int, catalogue: Catalogue) -> Preset:
    for preset in catalogue.presets:
        if preset.max_channels is None or preset.max_users is None:
            return preset.name
        if channels < preset.max_channels and users < preset.max_users:
            return preset.name
    raise AssertionError("the catalogue guarantees an open last preset")


def choose_preset(
    requirements: ServiceRequirements, requested: Preset | None, catalogue: Catalogue
) -> tuple[Preset, list[str], ExplainStep]:
    """The larger of the requested and the derived preset: a preset is a floor, never a cap."""
    channels, users = channels_and_users(requirements)
    derived = preset_for_load(channels, users, catalogue)
    warnings = []
    chosen = derived
    if requested is not None:
        if PRESETS.index(requested) < PRESETS.index(derived):
            warnings.append(
                f"requested preset {requested!r} is smaller than the load needs: "
                f"using {derived!r} ({channels} channels, {users} users)"
            )
        else:
            chosen = requested
    step = ExplainStep(
        figure="preset",
        formula="smallest preset with channels < its max_channels and users < its max_users; "
        "the larger of that and the requested preset",
        inputs={"channels": channels, "users": users, "requested": requested or "none"},
        result=chosen,
    )
    return chosen, warnings, step
