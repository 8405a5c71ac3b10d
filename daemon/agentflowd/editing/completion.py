"""Completion in SKILL.md, sub-agent and command files, driven by the JSON Schemas.

Front-matter keys by context (nested mappings and list items included), enum and boolean values,
durations, agent types (built-ins plus `.claude/agents`), capability names already used in the
project, model aliases, tool names, and in the body the skill's bundled files after `](`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from agentflowd.editing import schemanav
from agentflowd.editing.context import Context, locate
from agentflowd.editing.facts import (
    CLAUDE_SUBAGENTS,
    CLAUDE_TOOLS,
    DURATIONS,
    MODEL_ALIASES,
    ProjectFacts,
    builtin_agent_types,
)
from agentflowd.editing.model import CompletionItem
from agentflowd.skills import resources
from agentflowd.skills.model import Document, Position, Span
from agentflowd.skills.parse import split_lines
from agentflowd.skills.schema import SchemaKind

TRIGGER_CHARACTERS = (":", " ", "-", "[", ",", "(", "/")
_LAYER_RANK = {"spec": "1", "claude-code": "2", "agentflow": "3"}
_REQUIRED_FIRST = {"name", "description", "type"}
_TOOL_KEYS = {"allowed-tools", "disallowed-tools", "tools", "disallowedTools", "allowed_tools"}
_LINK_OPEN = re.compile(r"\]\(<?(?P<target>[^)\s>]*)$")


def complete(
    doc: Document, pos: Position, facts: ProjectFacts | None = None
) -> list[CompletionItem]:
    if doc.kind == "other":
        return []
    facts = facts or ProjectFacts()
    lines = split_lines(doc.text)
    if pos.line >= len(lines):
        return []
    ctx = locate(lines, pos)
    if ctx is None:
        return []
    if ctx.role == "body":
        return _link_items(doc, lines, pos)
    kind: SchemaKind = doc.kind
    if ctx.role == "key":
        holder = schemanav.resolve(kind, ctx.path)
        if holder is not None and ctx.dash and not schemanav.object_properties(holder):
            return _value_items(kind, ctx, facts, doc, lines)  # `- ` in a list of plain values
        return _key_items(kind, ctx, holder)
    return _value_items(kind, ctx, facts, doc, lines)


# ----- keys


def _key_items(
    kind: SchemaKind, ctx: Context, holder: dict[str, Any] | None
) -> list[CompletionItem]:
    if holder is None:
        return []
    prefix = ""
    props = schemanav.object_properties(holder)
    if not props and not ctx.dash:
        items = schemanav.array_items(holder)
        if items is not None and schemanav.object_properties(items):
            props, prefix = schemanav.object_properties(items), "- "  # under `agents:` with no `- `
    top = not ctx.path
    out = []
    for key, sub in props.items():
        if key in ctx.siblings:
            continue
        suffix = "" if ctx.followed_by_colon else _key_suffix(sub, ctx.column + len(prefix))
        layer = str(sub.get("x-layer", "")) if top else ""
        rank = "0" if key in _REQUIRED_FIRST else _LAYER_RANK.get(layer, "2")
        detail = schemanav.type_label(sub)
        if top and layer:
            detail = f"{detail} ({schemanav.LAYER_LABELS.get(layer, layer)})"
        out.append(
            CompletionItem(
                label=key,
                kind="key",
                insert_text=prefix + key + suffix,
                replace=ctx.replace,
                detail=detail,
                documentation=_describe(sub),
                sort_text=f"{rank}{key}",
            )
        )
    return out


def _key_suffix(sub: dict[str, Any], column: int) -> str:
    types = schemanav.types_of(sub)
    child = " " * (column + 2)
    if types == {"object"} or (not types and schemanav.object_properties(sub)):
        return ":\n" + child
    if types == {"array"}:
        items = schemanav.array_items(sub) or {}
        if schemanav.object_properties(items):
            return ":\n" + child + "- "
    return ": "


# ----- values


def _value_items(
    kind: SchemaKind, ctx: Context, facts: ProjectFacts, doc: Document, lines: list[str]
) -> list[CompletionItem]:
    path = ctx.path
    node = schemanav.resolve(kind, path)
    keys = [p for p in path if isinstance(p, str)]
    key = keys[-1] if keys else ""
    in_list = bool(path) and isinstance(path[-1], int)
    wrap = False
    if node is not None and not in_list and schemanav.types_of(node) == {"array"}:
        # `capabilities: ` with the list not started yet: offer `[value]`.
        node, wrap = schemanav.array_items(node), True
    candidates = _candidates(kind, path, key, node, facts, doc)
    out = []
    seen: set[str] = set()
    for index, (value, item_kind, detail, docs) in enumerate(candidates):
        if value in seen:
            continue
        seen.add(value)
        text = _scalar(value)
        if wrap:
            text = f"[{text}]"
        if ctx.replace.start == ctx.replace.end and not ctx.flow and not ctx.dash:
            text = _space_after_colon(lines, ctx) + text
        out.append(
            CompletionItem(
                label=value,
                kind=item_kind,  # type: ignore[arg-type]
                insert_text=text,
                replace=ctx.replace,
                detail=detail,
                documentation=docs,
                sort_text=f"{index:04d}",
            )
        )
    return out


def _space_after_colon(lines: list[str], ctx: Context) -> str:
    line = lines[ctx.replace.start.line]
    at = ctx.replace.start.character
    return " " if at > 0 and line[at - 1] == ":" else ""


def _candidates(
    kind: SchemaKind,
    path: tuple[str | int, ...],
    key: str,
    node: dict[str, Any] | None,
    facts: ProjectFacts,
    doc: Document,
) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    if kind == "skill" and key == "type" and path[:1] == ("agents",) and len(path) == 3:
        for agent in facts.agents:
            out.append(
                (agent.name, "agent", "sub-agent", _agent_doc(agent.description, agent.path))
            )
        for builtin in builtin_agent_types().values():
            out.append((builtin.name, "agent", "built-in agent", builtin.description))
        return out
    if kind == "skill" and path == ("agent",):
        for name, text in CLAUDE_SUBAGENTS.items():
            out.append((name, "agent", "Claude Code sub-agent", text))
        for agent in facts.agents:
            out.append(
                (agent.name, "agent", "sub-agent", _agent_doc(agent.description, agent.path))
            )
        return out
    if key == "capabilities":
        return [(c, "capability", "used in this project", "") for c in facts.capabilities]
    if key in _TOOL_KEYS:
        return [(t, "value", "Claude Code tool", "") for t in CLAUDE_TOOLS]
    if kind == "agent" and key == "skills":
        return [(s, "value", "skill", "") for s in facts.skills]
    if key == "model" and len(path) == 1:
        return [(m, "value", "model alias", "") for m in MODEL_ALIASES]
    if kind == "skill" and path == ("name",) and doc.path is not None:
        return [(doc.path.parent.name, "value", "the folder name", "")]
    if node is None:
        return out
    for value in schemanav.enum_values(node):
        out.append(
            (schemanav.show_value(value), "enum", schemanav.path_label(path), _describe(node))
        )
    if "boolean" in schemanav.types_of(node):
        default = node.get("default")
        for value in (True, False):
            detail = "default" if value == default else ""
            out.append((schemanav.show_value(value), "keyword", detail, ""))
    if schemanav.is_duration(node):
        examples = [str(e) for e in node.get("examples", []) if isinstance(e, str)]
        for value in (*examples, *DURATIONS):
            out.append((value, "duration", "duration", _describe(node)))
    return out


def _agent_doc(description: str, path: Path | None) -> str:
    return description + (f"\n\n`{path}`" if path is not None else "")


def _scalar(text: str) -> str:
    """`text` as a YAML plain scalar when it reads back as the same string, else quoted."""
    try:
        same = yaml.safe_load(text) == text or text in ("true", "false")
    except yaml.YAMLError:
        same = False
    return text if same else json.dumps(text, ensure_ascii=False)


def _describe(node: dict[str, Any]) -> str:
    parts = [str(node.get("description", "")), *schemanav.value_notes(node)]
    return "\n\n".join(p for p in parts if p)


# ----- body: bundled files after `](`


def _link_items(doc: Document, lines: list[str], pos: Position) -> list[CompletionItem]:
    if doc.kind != "skill" or doc.path is None:
        return []
    line = lines[pos.line]
    match = _LINK_OPEN.search(line[: pos.character])
    if match is None:
        return []
    start = match.start("target")
    end = pos.character
    while end < len(line) and line[end] not in ") >":
        end += 1
    span = Span(Position(pos.line, start), Position(pos.line, end))
    out = []
    for folder, names in resources.bundled_files(doc.path.parent).items():
        for name in names:
            out.append(
                CompletionItem(
                    label=name,
                    kind="file",
                    insert_text=name,
                    replace=span,
                    detail=f"{folder}/",
                    sort_text=name,
                )
            )
    return out
