"""Hover: the schema's description, allowed values, default and an example for the key under the
cursor; for an agent type, what that agent is; for a body link, where it points."""

from __future__ import annotations

from typing import Any

import yaml

from agentflowd.editing import schemanav
from agentflowd.editing.context import ancestors, frontmatter_region, scan_line
from agentflowd.editing.facts import ProjectFacts
from agentflowd.editing.model import Hover
from agentflowd.skills import resources
from agentflowd.skills.model import Document, Position, Span
from agentflowd.skills.parse import split_lines
from agentflowd.skills.schema import SchemaKind


def hover(doc: Document, pos: Position, facts: ProjectFacts | None = None) -> Hover | None:
    if doc.kind == "other":
        return None
    lines = split_lines(doc.text)
    if pos.line >= len(lines):
        return None
    region = frontmatter_region(lines)
    if region is None or not region[0] <= pos.line < region[1]:
        return _link_hover(doc, pos)
    scanned = scan_line(lines[pos.line])
    if scanned is None or scanned.key is None or scanned.colon is None:
        return None
    parent = ancestors(lines, region[0], pos.line, scanned.key_col)
    if parent is None:
        return None
    path = (*parent, scanned.key)
    line = lines[pos.line]
    value_start = (
        scanned.colon + 1 + len(line[scanned.colon + 1 :]) - len(line[scanned.colon + 1 :].lstrip())
    )
    value_end = value_start + len(scanned.value)
    if scanned.key_col <= pos.character <= scanned.key_end:
        span = Span.at(pos.line, scanned.key_col, scanned.key_end)
    elif scanned.value and value_start <= pos.character <= value_end:
        span = Span.at(pos.line, value_start, value_end)
    else:
        return None
    kind: SchemaKind = doc.kind
    node = schemanav.resolve(kind, path)
    if node is None:
        return None
    text = describe_key(kind, path, node)
    agent_text = _agent_note(kind, path, scanned.value.strip("\"'"), facts or ProjectFacts())
    if agent_text and span.start.character == value_start:
        text = agent_text + "\n\n---\n\n" + text
    return Hover(text, span)


def describe_key(kind: SchemaKind, path: tuple[str | int, ...], node: dict[str, Any]) -> str:
    """Markdown for one front-matter key: name, layer, description, values, default, example."""
    title = f"**`{schemanav.path_label(path)}`**"
    layer = schemanav.layer_label(kind, path)
    parts = [f"{title} · {schemanav.type_label(node)}" + (f" · {layer}" if layer else "")]
    if node.get("description"):
        parts.append(str(node["description"]))
    parts.extend(schemanav.value_notes(node))
    example = _example_value(node)
    if example is not _MISSING:
        parts.append("Example:\n```yaml\n" + _example_yaml(path, example) + "```")
    return "\n\n".join(parts)


_MISSING = object()


def _example_value(node: dict[str, Any]) -> Any:
    examples = node.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    enum = schemanav.enum_values(node)
    if enum:
        return enum[0]
    return node.get("default", _MISSING)


class _IndentedDumper(yaml.SafeDumper):
    # Lists indented under their key, the way skill authors write them.
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _example_yaml(path: tuple[str | int, ...], value: Any) -> str:
    for part in reversed(path):
        value = [value] if isinstance(part, int) else {part: value}
    return yaml.dump(
        value,
        Dumper=_IndentedDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
    )


def _agent_note(
    kind: SchemaKind, path: tuple[str | int, ...], value: str, facts: ProjectFacts
) -> str:
    is_type = kind == "skill" and len(path) == 3 and path[0] == "agents" and path[2] == "type"
    if not (is_type or (kind == "skill" and path == ("agent",))) or not value:
        return ""
    agent = facts.agent(value)
    if agent is None:
        return f"Agent type `{value}`: not a built-in and no `.claude/agents/{value}.md` was found."
    where = f"\n\n`{agent.path}`" if agent.path is not None else ""
    return f"Agent type **{agent.name}**: {agent.description}{where}"


def _link_hover(doc: Document, pos: Position) -> Hover | None:
    for link in resources.body_links(doc):
        if link.resolved is None or not link.span.contains(pos):
            continue
        if link.escapes:
            state = "outside the skill folder (not packaged with the skill)"
        else:
            state = "exists" if link.exists else "**missing**"
        return Hover(f"`{link.resolved}`: {state}", link.span)
    return None
