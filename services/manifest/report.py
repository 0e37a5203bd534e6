"""The validation report and the parsed documents it points into (object, field path, line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

PathPart = str | int
Path = tuple[PathPart, ...]


class Issue(BaseModel):
    """One error: which object, which field (a JSON path), what is wrong, where in the text."""

    object: str  # "Deployment/ecp-ai-acme/callbot", or "document 3" before the object is known
    field: str  # "spec.template.spec.containers[0].resources.requests.cpu"; "" for the whole
    message: str
    line: int | None = None  # 1-based, in the submitted text
    column: int | None = None


class ResourceSummary(BaseModel):
    total_cpu: str  # "12000m"
    total_memory: str  # "24Gi"
    total_gpu: int
    estimated_cost: str  # "$450/month"
    cost_basis: str  # how estimated_cost was reached


class ValidationReport(BaseModel):
    valid: bool
    warnings: list[str]
    errors: list[Issue]
    resource_summary: ResourceSummary


def format_path(path: Path) -> str:
    """`("spec", "containers", 0, "image")` -> `spec.containers[0].image`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass
class Document:
    """One YAML document of the manifest: its object and the node tree that knows line numbers."""

    index: int  # 1-based
    obj: Any
    node: yaml.Node | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        obj = self.obj
        if not isinstance(obj, dict):
            return f"document {self.index}"
        meta = obj.get("metadata")
        name = meta.get("name") if isinstance(meta, dict) else None
        kind = obj.get("kind")
        if not isinstance(kind, str) or not isinstance(name, str):
            return f"document {self.index}"
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        return f"{kind}/{namespace}/{name}" if isinstance(namespace, str) else f"{kind}/{name}"

    def line_of(self, path: Path) -> int | None:
        """The line of the deepest node on the path that exists (the key's line for a field)."""
        node = self.node
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            found = _child(node, part)
            if found is None:
                break
            key_line, node = found
            line = key_line
        return line

    def issue(self, path: Path, message: str) -> Issue:
        return Issue(
            object=self.label, field=format_path(path), message=message, line=self.line_of(path)
        )


def _child(node: yaml.Node, part: PathPart) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None
