"""Compare two manifests object by object: what was added, removed or changed, as unified diffs."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from services.manifest.naming import HASH_ANNOTATION, REVISION_ANNOTATION

ObjectKey = tuple[str, str, str]


class ManifestParseError(ValueError):
    """One side of the diff is not YAML."""


def _key(obj: dict[str, Any]) -> ObjectKey:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    return (str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", "")))


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without the manifest-wide annotations, which change whenever anything does."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("annotations"), dict):
        return obj
    annotations = {
        k: v
        for k, v in meta["annotations"].items()
        if k not in (HASH_ANNOTATION, REVISION_ANNOTATION)
    }
    trimmed_meta = {k: v for k, v in meta.items() if k != "annotations"}
    if annotations:
        trimmed_meta["annotations"] = annotations
    return {**obj, "metadata": trimmed_meta}


def _objects_by_key(text: str, side: str) -> dict[ObjectKey, dict[str, Any]]:
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as error:
        raise ManifestParseError(f"the {side} manifest is not valid YAML: {error}") from error
    return {_key(doc): _comparable(doc) for doc in documents if isinstance(doc, dict)}


def _as_text(obj: dict[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    dumped = yaml.safe_dump(obj, sort_keys=False, allow_unicode=True, width=4096)
    return dumped.splitlines(keepends=True)


def diff_manifests(old_yaml: str, new_yaml: str) -> list[dict[str, Any]]:
    """One entry per object that differs, keyed `kind/namespace/name`, in a stable order."""
    old = _objects_by_key(old_yaml, "old")
    new = _objects_by_key(new_yaml, "new")
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        label = "/".join(part for part in key if part)
        text = "".join(
            difflib.unified_diff(
                _as_text(before), _as_text(after), fromfile=f"a/{label}", tofile=f"b/{label}"
            )
        )
        kind, namespace, name = key
        changes.append(
            {
                "key": label,
                "kind": kind,
                "namespace": namespace or None,
                "name": name,
                "change": change,
                "diff": text,
            }
        )
    return changes


def diff_summary(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and object keys per kind of change, for a one-line view of a revision."""
    summary: dict[str, Any] = {}
    for change in ("added", "removed", "changed"):
        keys = [c["key"] for c in changes if c["change"] == change]
        summary[change] = len(keys)
        summary[f"{change}_objects"] = keys
    summary["total"] = len(changes)
    return summary
