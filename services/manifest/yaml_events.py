"""Load YAML documents straight from libyaml's events, without building a node tree.

About twice as fast as `yaml.load_all(text, CSafeLoader)` on a manifest, with the same result for
what manifests use: mappings, sequences and scalars resolved as YAML 1.1 (SafeLoader) does.
Anything rarer (anchors, aliases, merge keys, explicit tags, complex keys) and any syntax error
make `load_documents` answer None: the caller then takes the full, node-keeping path.
"""

from __future__ import annotations

from typing import Any

import yaml

_Parser: Any = getattr(getattr(yaml, "_yaml", None), "CParser", None)  # libyaml's, if built
_resolver = yaml.resolver.Resolver()
_constructor = yaml.constructor.SafeConstructor()
_STR = "tag:yaml.org,2002:str"
_NO_KEY = object()
# Called directly (not through construct_object, which remembers every node it has built).
_NUMBERS_AND_TIMES = {
    "tag:yaml.org,2002:int": _constructor.construct_yaml_int,
    "tag:yaml.org,2002:float": _constructor.construct_yaml_float,
    "tag:yaml.org,2002:timestamp": _constructor.construct_yaml_timestamp,
}


class _Unsupported(Exception):
    """A construct this loader leaves to PyYAML's own."""


class _MappingFrame:
    __slots__ = ("key", "obj")

    def __init__(self, obj: dict[Any, Any]) -> None:
        self.obj = obj
        self.key: Any = _NO_KEY


def _typed(tag: str, value: str) -> Any:
    if tag == _STR:
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return _constructor.bool_values[value.lower()]
    construct = _NUMBERS_AND_TIMES.get(tag)
    if construct is None:
        raise _Unsupported(tag)  # merge keys, '=' values, ...
    return construct(yaml.ScalarNode(tag, value))


def _scalar(event: Any, plain_cache: dict[str, Any]) -> Any:
    if event.anchor is not None:
        raise _Unsupported("anchor")
    tag, value, implicit = event.tag, event.value, event.implicit
    if tag is None or tag == "!":
        if not implicit[0]:
            return value  # quoted: a string (PyYAML resolves a plain `! 42` as it does `42`)
        if value not in plain_cache:
            plain_cache[value] = _typed(_resolver.resolve(yaml.ScalarNode, value, implicit), value)
        return plain_cache[value]
    if tag == _STR:
        return value
    raise _Unsupported(tag)


def _load(parser: Any) -> list[Any]:
    documents: list[Any] = []
    frames: list[Any] = []  # a list for a sequence being read, a _MappingFrame for a mapping
    plain_cache: dict[str, Any] = {}
    document: Any = None

    def add(value: Any) -> None:
        nonlocal document
        if not frames:
            document = value
            return
        top = frames[-1]
        if type(top) is list:
            top.append(value)
        elif top.key is _NO_KEY:
            if isinstance(value, dict | list):
                raise _Unsupported("complex key")
            top.key = value
        else:
            top.obj[top.key] = value
            top.key = _NO_KEY

    while parser.check_event():
        event = parser.get_event()
        kind = type(event)
        if kind is yaml.ScalarEvent:
            add(_scalar(event, plain_cache))
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag not in (None, "!"):
                raise _Unsupported("anchor or tag")
            container: Any = {} if kind is yaml.MappingStartEvent else []
            add(container)
            frames.append(_MappingFrame(container) if kind is yaml.MappingStartEvent else container)
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frames.pop()
        elif kind is yaml.DocumentStartEvent:
            document = None
        elif kind is yaml.DocumentEndEvent:
            documents.append(document)
        elif kind is yaml.AliasEvent:
            raise _Unsupported("alias")
    return documents


def load_documents(text: str) -> list[Any] | None:
    """Every document's object, or None when the text needs PyYAML's full loader."""
    if _Parser is None:
        return None
    parser = _Parser(text)
    try:
        return _load(parser)
    except (_Unsupported, yaml.YAMLError):
        return None
    finally:
        parser.dispose()
