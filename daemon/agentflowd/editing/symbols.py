"""Document symbols: the front-matter keys as a tree, then the markdown headings as a tree."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agentflowd.editing.model import Symbol
from agentflowd.skills.model import Document, NodeSpans, Position, Span
from agentflowd.skills.parse import split_lines

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def document_symbols(doc: Document) -> list[Symbol]:
    lines = split_lines(doc.text)
    return _frontmatter_symbols(doc, lines) + _heading_symbols(lines, doc.body_line)


def _frontmatter_symbols(doc: Document, lines: list[str]) -> list[Symbol]:
    children: dict[tuple[str | int, ...], list[tuple[str | int, ...]]] = {}
    for path in doc.spans:
        if path:
            children.setdefault(path[:-1], []).append(path)
    return _entries((), children, doc.spans, doc.data, lines)


def _entries(
    parent: tuple[str | int, ...],
    children: dict[tuple[str | int, ...], list[tuple[str | int, ...]]],
    spans: Mapping[tuple[str | int, ...], NodeSpans],
    data: Any,
    lines: list[str],
) -> list[Symbol]:
    out = []
    for path in sorted(children.get(parent, []), key=lambda p: spans[p].value.start):
        entry = spans[path]
        value = _get(data, path)
        start = entry.key.start if entry.key is not None else entry.value.start
        span = Span(start, _clip(max(entry.value.end, start), start, lines))
        if entry.key is not None:
            name, selection = str(path[-1]), entry.key
            kind = "key"
        else:
            label = value.get("type") or value.get("name") if isinstance(value, dict) else None
            name = f"[{path[-1]}]" + (f" {label}" if isinstance(label, str) else "")
            end_of_line = Position(start.line, len(lines[start.line]))
            selection, kind = Span(start, min(span.end, end_of_line)), "item"
        detail = "" if isinstance(value, dict | list) else _preview(value)
        nested = tuple(_entries(path, children, spans, data, lines))
        out.append(Symbol(name, kind, span, selection, detail, nested))  # type: ignore[arg-type]
    return out


def _clip(end: Position, start: Position, lines: list[str]) -> Position:
    # A block node's end mark sits at column 0 of the next line; end at the last line instead.
    if end.character == 0 and end.line > start.line:
        return Position(end.line - 1, len(lines[end.line - 1]))
    return end


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _preview(value: Any) -> str:
    text = " ".join(str(value).split()) if value is not None else ""
    return text if len(text) <= 40 else text[:39] + "…"


def _heading_symbols(lines: list[str], first: int) -> list[Symbol]:
    found: list[tuple[int, int, str]] = []  # (line, level, text)
    fence: str | None = None
    for index in range(first, len(lines)):
        line = lines[index]
        opener = _FENCE.match(line)
        if opener:
            mark = opener.group(1)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence):
                fence = None
            continue
        if fence is not None:
            continue
        match = _ATX.match(line)
        if match:
            found.append((index, len(match.group(1)), (match.group(2) or "").strip()))
    last = len(lines) - 1
    end_of = Position(last, len(lines[last])) if lines else Position(0, 0)
    built: list[tuple[int, Symbol, list[Symbol]]] = []  # stack of (level, symbol, children)
    roots: list[Symbol] = []

    def close(level: int, end: Position) -> None:
        while built and built[-1][0] >= level:
            _, sym, kids = built.pop()
            done = Symbol(
                sym.name,
                "heading",
                Span(sym.span.start, end),
                sym.selection,
                sym.detail,
                tuple(kids),
            )
            (built[-1][2] if built else roots).append(done)

    for line_no, level, text in found:
        if line_no > 0:
            close(level, Position(line_no - 1, len(lines[line_no - 1])))
        start = Position(line_no, 0)
        selection = Span(start, Position(line_no, len(lines[line_no])))
        built.append(
            (level, Symbol(text or "#" * level, "heading", selection, selection, "#" * level), [])
        )
    close(0, end_of)
    return roots
