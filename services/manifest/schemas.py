"""Kubernetes OpenAPI schemas from kubernetes-validate, compiled once per version and kind."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

import fastjsonschema
import jsonschema
from referencing import Registry, Resource

from services.manifest.report import Path

FastCheck = Callable[[Any], Any]
_DEFINITIONS_REF = '"/api/_definitions.json#/$defs/'

_VERSION_DIR = re.compile(r"^v(\d+)\.(\d+)\.\d+-local-strict$")
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


class UnsupportedVersionError(ValueError):
    """A Kubernetes version outside what the bundled schemas cover."""


class SchemaNotFound(LookupError):
    """No bundled schema for this apiVersion and kind."""


def _schema_root() -> FilePath:
    return FilePath(str(resources.files("kubernetes_validate") / "kubernetes-json-schema"))


@functools.cache
def _strict_dirs() -> dict[tuple[int, int], FilePath]:
    found = {}
    for entry in _schema_root().iterdir():
        match = _VERSION_DIR.match(entry.name)
        if match:
            found[(int(match[1]), int(match[2]))] = entry
    return found


def schema_dir(kubernetes_version: str) -> FilePath:
    """The strict schemas of the newest bundled version not newer than the one asked for."""
    match = re.match(r"^v?(\d+)\.(\d+)", kubernetes_version)
    if match is None:
        raise UnsupportedVersionError(f"{kubernetes_version!r} is not a Kubernetes version")
    wanted = (int(match[1]), int(match[2]))
    dirs = _strict_dirs()
    usable = [version for version in dirs if version <= wanted]
    if not usable or wanted > max(dirs):
        known = ", ".join(f"{a}.{b}" for a, b in sorted(dirs))
        raise UnsupportedVersionError(
            f"Kubernetes {kubernetes_version} is not supported (schemas for {known})"
        )
    return dirs[max(usable)]


@functools.cache
def _registry(directory: FilePath) -> Registry[Any]:
    definitions = json.loads((directory / "_definitions.json").read_text())
    return (Resource.from_contents(definitions) @ Registry()).crawl()


@functools.cache
def kinds_served(directory: FilePath) -> frozenset[str]:
    """Lower-case kinds that have a schema under some apiVersion in this version."""
    return frozenset(path.name.split("-", 1)[0] for path in directory.glob("*-*.json"))


def _schema_file(api_version: str, kind: str) -> str:
    # "networking.k8s.io/v1" -> "networking-v1"; "v1" -> "v1" (the core group has no prefix)
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{group_version}.json"


@functools.cache
def validator_for(directory: FilePath, api_version: str, kind: str) -> jsonschema.Validator:
    """The compiled validator for one kind; cached, since compiling is the expensive part."""
    path = directory / _schema_file(api_version, kind)
    if not path.is_file():
        raise SchemaNotFound(f"{kind} {api_version}")
    schema = json.loads(path.read_text())
    validator: jsonschema.Validator = jsonschema.Draft202012Validator(
        schema, registry=_registry(directory)
    )
    return validator


@functools.cache
def fast_check_for(directory: FilePath, api_version: str, kind: str) -> FastCheck | None:
    """A compiled yes/no check for one kind (fastjsonschema: many times faster than jsonschema,
    but it stops at the first error). None when the kind has no schema or does not compile."""
    path = directory / _schema_file(api_version, kind)
    if not path.is_file():
        return None
    # One self-contained schema: the kind's own, with the shared definitions inlined.
    text = path.read_text().replace(_DEFINITIONS_REF, '"#/$defs/')
    schema = json.loads(text)
    schema.pop("$schema", None)
    schema.pop("$id", None)
    schema["$defs"] = json.loads((directory / "_definitions.json").read_text())["$defs"]
    try:
        # Formats and defaults off, as jsonschema has them: check only, never change the object.
        check: FastCheck = fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None
    return check


def passes_fast_check(fast: FastCheck | None, obj: Any) -> bool:
    if fast is None:
        return False
    try:
        fast(obj)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def schema_errors(
    validator: jsonschema.Validator, obj: Any, fast: FastCheck | None = None
) -> list[tuple[Path, str]]:
    """Every schema error of the object, each at the JSON path of the field it is about.

    `fast`, when given, answers for the valid objects (most of them); jsonschema walks only the
    ones it refuses, to report all their errors and not only the first."""
    if passes_fast_check(fast, obj):
        return []
    found: list[tuple[Path, str]] = []
    for error in validator.iter_errors(obj):
        path: Path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for unknown in sorted(key for key in error.instance if key not in allowed):
                found.append(((*path, unknown), f"unknown field {unknown!r}"))
            continue
        message = error.message.replace(", 'null'", "")
        required = _REQUIRED.match(error.message)
        if error.validator == "required" and required:
            found.append(((*path, required[1]), f"required field {required[1]!r} is missing"))
            continue
        found.append((path, message))
    return found
