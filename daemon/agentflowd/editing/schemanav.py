"""Walking the front-matter JSON Schemas for editor features (completion, hover)."""

from __future__ import annotations

import json
import re
from typing import Any

from agentflowd.skills.schema import SchemaKind, load_schema

LAYER_LABELS = {
    "spec": "Agent Skills spec",
    "claude-code": "Claude Code",
    "agentflow": "agentflowd orchestration",
}


def resolve(kind: SchemaKind, path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """The schema at a front-matter path; unlike `schema.subschema_at` it looks through `oneOf`
    alternatives, so `allowed-tools` (a string or a list) has items too."""
    node: Any = load_schema(kind)
    for part in path:
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = array_items(node)
        else:
            props = object_properties(node)
            if part in props:
                node = props[part]
            else:
                extra = node.get("additionalProperties")
                node = extra if isinstance(extra, dict) else None
    return node if isinstance(node, dict) else None


def alternatives(node: dict[str, Any]) -> list[dict[str, Any]]:
    options = node.get("oneOf") or node.get("anyOf")
    if isinstance(options, list):
        return [o for o in options if isinstance(o, dict)]
    return [node]


def enum_values(node: dict[str, Any]) -> list[Any]:
    return [v for o in alternatives(node) for v in o.get("enum", [])]


def show_value(value: Any) -> str:
    """A schema value as it is written in YAML (`true`, `null`)."""
    return json.dumps(value) if isinstance(value, bool) or value is None else str(value)


def value_notes(node: dict[str, Any]) -> list[str]:
    """Markdown lines for the allowed values and the default, where the schema gives them."""
    notes = []
    enum = enum_values(node)
    if enum:
        notes.append("Values: " + ", ".join(f"`{show_value(v)}`" for v in enum))
    if "default" in node:
        notes.append(f"Default: `{show_value(node['default'])}`")
    return notes


def array_items(node: dict[str, Any]) -> dict[str, Any] | None:
    for option in alternatives(node):
        items = option.get("items")
        if isinstance(items, dict):
            return items
    return None


def object_properties(node: dict[str, Any]) -> dict[str, dict[str, Any]]:
    props = node.get("properties")
    return props if isinstance(props, dict) else {}


def types_of(node: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for option in alternatives(node):
        kind = option.get("type")
        if isinstance(kind, str):
            out.add(kind)
        elif isinstance(kind, list):
            out.update(k for k in kind if isinstance(k, str))
        elif "enum" in option:
            out.add("enum")
        elif "properties" in option:
            out.add("object")
    return out


def is_duration(node: dict[str, Any]) -> bool:
    return any(
        "pattern" in o and re.search(r"ms\|s\|m\|h", str(o["pattern"])) for o in alternatives(node)
    )


def type_label(node: dict[str, Any]) -> str:
    if "enum" in node:
        return " | ".join(str(v) for v in node["enum"])
    if is_duration(node):
        return "duration"
    names = {"array": "list", "object": "mapping", "integer": "integer", "number": "number"}
    labels = [names.get(t, t) for t in sorted(types_of(node))]
    return " or ".join(labels)


def layer_label(kind: SchemaKind, path: tuple[str | int, ...]) -> str:
    if not path or not isinstance(path[0], str):
        return ""
    entry = object_properties(load_schema(kind)).get(path[0], {})
    return LAYER_LABELS.get(str(entry.get("x-layer")), "")


def path_label(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else part)
    return out
