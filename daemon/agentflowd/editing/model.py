"""Plain results of the editing features; `agentflowd.lsp.convert` maps them to LSP types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from agentflowd.skills.model import Diagnostic, Span, TextEdit

ItemKind = Literal["key", "value", "enum", "agent", "capability", "duration", "file", "keyword"]
SymbolKind = Literal["key", "item", "heading"]


@dataclass(frozen=True)
class CompletionItem:
    label: str
    kind: ItemKind
    insert_text: str
    replace: Span  # the text the item replaces (it always contains the cursor)
    detail: str = ""
    documentation: str = ""  # markdown
    sort_text: str | None = None


@dataclass(frozen=True)
class Hover:
    markdown: str
    span: Span


@dataclass(frozen=True)
class QuickFix:
    title: str
    diagnostic: Diagnostic
    edits: tuple[TextEdit, ...]
    preferred: bool = False


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: SymbolKind
    span: Span  # the whole entry or section
    selection: Span  # the key or heading text
    detail: str = ""
    children: tuple[Symbol, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class LinkTarget:
    span: Span
    target: Path
    tooltip: str = ""
