"""The virtual cluster's file: node pools (CPU, memory, GPU model and count, labels, taints),
read and checked with every error located."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from services.deployer.scheduling import Taint

DEFAULT_CLUSTER_FILE = Path(__file__).with_name("virtual-cluster.yaml")
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class ClusterFileError(ValueError):
    """A virtual-cluster description that cannot be used; the message names the bad entry."""


class NodePool(BaseModel):
    """Identical nodes, as a cloud node group would give them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_DNS_LABEL)
    nodes: int = Field(ge=0)
    cpu: float = Field(gt=0, description="cores per node")
    memory_gib: float = Field(gt=0)
    gpu_model: Literal["T4", "V100", "L40S"] | None = None
    gpus_per_node: int = Field(default=0, ge=0)
    max_pods: int = Field(default=110, ge=1)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: tuple[Taint, ...] = ()

    @field_validator("taints", mode="before")
    @classmethod
    def _taints_may_be_written_as_kubectl_does(cls, value: Any) -> Any:
        if not isinstance(value, list | tuple):
            return value
        return [_taint_from_text(t) if isinstance(t, str) else t for t in value]

    @model_validator(mode="after")
    def _gpu_model_goes_with_gpus(self) -> NodePool:
        if (self.gpu_model is None) != (self.gpus_per_node == 0):
            raise ValueError("gpu_model and gpus_per_node > 0 must be given together")
        return self


def _taint_from_text(text: str) -> dict[str, str]:
    """`key=value:Effect` or `key:Effect`, the form `kubectl taint` takes."""
    head, sep, effect = text.rpartition(":")
    if not sep:
        raise ValueError(f"taint {text!r} is not key=value:Effect")
    key, _, value = head.partition("=")
    return {"key": key, "value": value, "effect": effect}


class ClusterSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "demo"
    node_pools: tuple[NodePool, ...] = Field(min_length=1)

    @field_validator("node_pools")
    @classmethod
    def _pool_names_are_unique(cls, pools: tuple[NodePool, ...]) -> tuple[NodePool, ...]:
        names = [p.name for p in pools]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"node pool names repeat: {', '.join(twice)}")
        return pools


def parse_cluster(data: Any, source: str = "virtual cluster") -> ClusterSpec:
    """Validate an already-parsed description; errors say which pool and field are wrong."""
    try:
        return ClusterSpec.model_validate(data)
    except ValidationError as error:
        problems = [f"{_where(data, e['loc'])}: {e['msg']}" for e in error.errors()]
        raise ClusterFileError(f"{source}: " + "; ".join(problems)) from None


def _where(data: Any, loc: tuple[int | str, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "node_pools" and isinstance(loc[1], int):
        pools = data.get("node_pools") if isinstance(data, dict) else None
        entry = pools[loc[1]] if isinstance(pools, list) and loc[1] < len(pools) else None
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"node pool {name!r}" if name else f"node pool #{loc[1] + 1}"
        rest = ".".join(str(part) for part in loc[2:])
        return f"{label} {rest}".strip()
    return ".".join(str(part) for part in loc) or "file"


def load_cluster(path: Path = DEFAULT_CLUSTER_FILE) -> ClusterSpec:
    """Read and validate a virtual-cluster YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ClusterFileError(f"{path}: {error}") from None
    return parse_cluster(data, str(path))
