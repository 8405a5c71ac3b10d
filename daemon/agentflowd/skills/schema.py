"""Access to the JSON Schemas in `schemas/`: the single source for validation, completion and hover."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

SchemaKind = Literal["skill", "agent", "command"]


def schema_dir() -> Path:
    # Installed wheels carry the schemas inside the package; a source checkout reads them in place.
    packaged = Path(__file__).resolve().parent.parent / "_schemas"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "schemas"


def schema_path(kind: SchemaKind) -> Path:
    return schema_dir() / f"{kind}.schema.json"


@functools.cache
def load_schema(kind: SchemaKind) -> dict[str, Any]:
    with schema_path(kind).open(encoding="utf-8") as handle:
        return json.load(handle)


def top_level_keys(kind: SchemaKind) -> dict[str, dict[str, Any]]:
    """Top-level front-matter keys and their schema entries."""
    return load_schema(kind)["properties"]


def layer_of(kind: SchemaKind, key: str) -> str | None:
    """`spec`, `claude-code` or `agentflow` for a known top-level key, None for an unknown one."""
    entry = top_level_keys(kind).get(key)
    return None if entry is None else entry.get("x-layer")


def subschema_at(kind: SchemaKind, path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """The schema that applies at a front-matter path (following properties and items), or None."""
    node: Any = load_schema(kind)
    for part in path:
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        else:
            extra = node.get("additionalProperties")
            node = extra if isinstance(extra, dict) else None
    return node if isinstance(node, dict) else None


def enum_at(kind: SchemaKind, path: tuple[str | int, ...]) -> tuple[str, ...]:
    """The allowed values at a front-matter path; a KeyError names a path with no enum."""
    node = subschema_at(kind, path)
    if node is None or "enum" not in node:
        raise KeyError(f"no enum at {kind}:{'.'.join(map(str, path))}")
    return tuple(node["enum"])


@functools.cache
def spec_keys() -> tuple[str, ...]:
    """The open Agent Skills spec's keys: the skill schema's `x-layer: spec` entries."""
    return tuple(k for k, v in top_level_keys("skill").items() if v.get("x-layer") == "spec")


def max_length(key: str) -> int:
    """The skill schema's `maxLength` for a top-level text key."""
    return top_level_keys("skill")[key]["maxLength"]
