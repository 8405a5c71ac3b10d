"""Document links and go-to-definition: relative links in the body and paths in front-matter
values to the skill's `scripts/`, `references/` and `assets/`, and agent types to their
`.claude/agents/<type>.md` files."""

from __future__ import annotations

import os
from pathlib import Path

from agentflowd.editing.context import ancestors, frontmatter_region, scan_line
from agentflowd.editing.facts import ProjectFacts
from agentflowd.editing.model import LinkTarget
from agentflowd.skills import resources
from agentflowd.skills.model import Document, Position, Span
from agentflowd.skills.parse import split_lines

_PATH_PREFIXES = tuple(f"{d}/" for d in resources.RESOURCE_DIRS) + tuple(
    f"./{d}/" for d in resources.RESOURCE_DIRS
)


def document_links(doc: Document) -> list[LinkTarget]:
    if doc.kind == "other":
        return []
    out = [
        LinkTarget(link.span, link.resolved, link.target)
        for link in resources.body_links(doc)
        if link.resolved is not None and link.exists
    ]
    out.extend(_frontmatter_paths(doc))
    return out


def _frontmatter_paths(doc: Document) -> list[LinkTarget]:
    if doc.path is None:
        return []
    folder = doc.path.parent.resolve()
    lines = split_lines(doc.text)
    out = []
    for path, entry in doc.spans.items():
        span = entry.value
        if not path or span.start.line != span.end.line or span.start.line >= len(lines):
            continue
        raw = lines[span.start.line][span.start.character : span.end.character]
        inner, shift = (raw[1:-1], 1) if raw[:1] in "\"'" and len(raw) > 1 else (raw, 0)
        if not inner.startswith(_PATH_PREFIXES):
            continue
        target = Path(os.path.normpath(folder / inner))
        if target.is_relative_to(folder) and target.exists():
            start = span.start.character + shift
            out.append(
                LinkTarget(Span.at(span.start.line, start, start + len(inner)), target, inner)
            )
    return out


def definition(doc: Document, pos: Position, facts: ProjectFacts | None = None) -> list[LinkTarget]:
    """Where the link, path or agent type under the cursor is defined."""
    for link in document_links(doc):
        if link.span.contains(pos):
            return [link]
    agent = _agent_at(doc, pos, facts or ProjectFacts())
    return [agent] if agent is not None else []


def _agent_at(doc: Document, pos: Position, facts: ProjectFacts) -> LinkTarget | None:
    if doc.kind != "skill":
        return None
    lines = split_lines(doc.text)
    region = frontmatter_region(lines)
    if region is None or not region[0] <= pos.line < region[1]:
        return None
    scanned = scan_line(lines[pos.line])
    if scanned is None or scanned.key not in ("type", "agent") or scanned.colon is None:
        return None
    parent = ancestors(lines, region[0], pos.line, scanned.key_col)
    path = (*(parent or ()), scanned.key)
    if path not in (("agents", 0, "type"), ("agent",)):
        return None
    line = lines[pos.line]
    value = scanned.value.strip("\"'")
    start = line.find(value, scanned.colon + 1)
    if not value or start < 0 or not start <= pos.character <= start + len(value):
        return None
    agent = facts.agent(value)
    if agent is None or agent.path is None:
        return None
    return LinkTarget(Span.at(pos.line, start, start + len(value)), agent.path, agent.description)
