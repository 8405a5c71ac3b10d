"""Plain data shared by the parser, the validator, the catalog and every renderer (CLI, LSP, hooks).

Positions are 0-based lines and 0-based columns counted in Unicode code points (what PyYAML marks
give). Renderers convert: the CLI prints 1-based columns, the LSP converts to UTF-16 offsets.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DocumentKind = Literal["skill", "agent", "command", "other"]
Source = Literal["enterprise", "personal", "project", "plugin"]


@dataclass(frozen=True, order=True)
class Position:
    line: int
    character: int


@dataclass(frozen=True)
class Span:
    start: Position
    end: Position

    @classmethod
    def at(cls, line: int, character: int = 0, end_character: int | None = None) -> Span:
        end = character if end_character is None else end_character
        return cls(Position(line, character), Position(line, end))

    def contains(self, pos: Position) -> bool:
        return self.start <= pos <= self.end


class Severity(enum.IntEnum):
    # Same numbers as LSP's DiagnosticSeverity so renderers convert without a table.
    ERROR = 1
    WARNING = 2
    INFO = 3
    HINT = 4

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class TextEdit:
    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    """A mechanical fix: applying `edits` to the file resolves the finding."""

    title: str
    edits: tuple[TextEdit, ...]


@dataclass(frozen=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    span: Span
    fix: Fix | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": self.severity.label,
            "message": self.message,
            "range": _span_json(self.span),
        }
        if self.fix is not None:
            out["fix"] = {
                "title": self.fix.title,
                "edits": [
                    {"range": _span_json(e.span), "newText": e.new_text} for e in self.fix.edits
                ],
            }
        return out


def _span_json(span: Span) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": span.start.line, "character": span.start.character},
        "end": {"line": span.end.line, "character": span.end.character},
    }


@dataclass(frozen=True)
class NodeSpans:
    """Where one front-matter entry sits: its key (None for list items and the root) and its value."""

    key: Span | None
    value: Span


@dataclass(frozen=True)
class Document:
    """One parsed markdown file with optional YAML front-matter.

    `data` is the front-matter mapping (empty when absent or unreadable). `spans` maps a path of
    keys and list indexes, e.g. ("coordination", "topology") or ("agents", 0, "type"), to where
    that entry sits in the file; () is the whole front-matter block.
    """

    path: Path | None
    kind: DocumentKind
    text: str
    data: Mapping[str, Any]
    spans: Mapping[tuple[str | int, ...], NodeSpans]
    has_frontmatter: bool
    frontmatter_lines: tuple[int, int] | None  # lines of the opening and closing `---`
    body: str
    body_line: int  # first line of the body
    diagnostics: tuple[Diagnostic, ...] = ()  # parse-level findings (unreadable file, bad YAML)


@dataclass(frozen=True)
class Skill:
    """One skill as Claude Code lists it (level 1) plus what deeper levels need."""

    name: str  # the name Claude Code invokes (`plugin:skill` for plugin skills)
    description: str
    path: Path  # the SKILL.md or command .md
    source: Source
    kind: Literal["skill", "command"]
    when_to_use: str = ""
    triggers: tuple[str, ...] = ()
    disable_model_invocation: bool = False
    user_invocable: bool = True
    plugin: str | None = None
    frontmatter: Mapping[str, Any] = field(default_factory=dict)
    body: str = ""

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def listing_text(self) -> str:
        """The text Claude Code puts in its skill listing for this skill (capped at 1,536 chars)."""
        text = self.description
        if self.when_to_use:
            text = f"{text} {self.when_to_use}" if text else self.when_to_use
        return text[:1536]


@dataclass(frozen=True)
class AgentDef:
    """A sub-agent from `.claude/agents/*.md`: its body is the system prompt."""

    name: str
    description: str
    path: Path
    source: Source
    tools: tuple[str, ...] | None
    model: str | None
    capabilities: tuple[str, ...]
    executor: Mapping[str, Any] | None
    frontmatter: Mapping[str, Any]
    system_prompt: str
