"""Read a SKILL.md, sub-agent or command file into a `Document`: front-matter data with source spans.

Lenient the way Claude Code is: unreadable YAML still yields the body and a precise diagnostic;
binary, non-UTF-8 or oversized files yield one diagnostic and an empty document; nothing here
raises on bad input.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import yaml

from agentflowd.skills import codes
from agentflowd.skills.model import (
    Diagnostic,
    Document,
    DocumentKind,
    Fix,
    NodeSpans,
    Position,
    Severity,
    Span,
    TextEdit,
)

MAX_BYTES = 1024 * 1024
# YAML aliases can expand exponentially ("billion laughs"); front-matter never needs this many nodes.
MAX_NODES = 20_000

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # type: ignore[assignment]


class _TooComplex(Exception):
    pass


def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (\\n, \\r\\n and \\r end a line), without their terminators."""
    return _LINE_BREAK.split(text)


def infer_kind(path: Path | None) -> DocumentKind:
    """What a file is from where it sits: SKILL.md, `.claude/agents/**.md`, `.claude/commands/**.md`."""
    if path is None:
        return "skill"
    if path.name.lower() == "skill.md":
        return "skill"
    if path.suffix.lower() != ".md":
        return "other"
    for folder in path.parents:
        if folder.name in ("agents", "commands") and _is_config_root(folder.parent):
            return "agent" if folder.name == "agents" else "command"
    return "other"


def _is_config_root(folder: Path) -> bool:
    return folder.name == ".claude" or (folder / ".claude-plugin").is_dir()


def load_document(path: Path, kind: DocumentKind | None = None) -> Document:
    """Read and parse `path`; I/O problems become a diagnostic, not an exception."""
    kind = kind or infer_kind(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            return _unreadable(path, kind, f"file is too large ({size} bytes; the limit is 1 MiB)")
        raw = path.read_bytes()
    except OSError as exc:
        return _unreadable(path, kind, f"cannot read file: {exc.strerror or exc}")
    return parse_document(raw, path, kind)


def parse_document(
    source: str | bytes, path: Path | None = None, kind: DocumentKind | None = None
) -> Document:
    kind = kind or infer_kind(path)
    if isinstance(source, bytes):
        if len(source) > MAX_BYTES:
            return _unreadable(
                path, kind, f"file is too large ({len(source)} bytes; the limit is 1 MiB)"
            )
        if b"\x00" in source:
            return _unreadable(path, kind, "file is binary (it contains NUL bytes), not markdown")
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return _unreadable(
                path, kind, f"file is not UTF-8 (invalid byte at offset {exc.start})"
            )
    else:
        text = source[1:] if source.startswith("\ufeff") else source
        if len(text) > MAX_BYTES:
            return _unreadable(path, kind, f"file is too large ({len(text)} characters)")
        if "\x00" in text:
            return _unreadable(path, kind, "file is binary (it contains NUL bytes), not markdown")
    return _parse_text(text, path, kind)


def _unreadable(path: Path | None, kind: DocumentKind, message: str) -> Document:
    diag = Diagnostic(codes.UNREADABLE, Severity.ERROR, message, Span.at(0))
    return Document(path, kind, "", {}, {}, False, None, "", 0, (diag,))


def _parse_text(text: str, path: Path | None, kind: DocumentKind) -> Document:
    lines = split_lines(text)
    if not lines or lines[0].rstrip() != "---":
        return Document(path, kind, text, {}, {}, False, None, text, 0, ())
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() == "---"), None)
    if close is None:
        diag = Diagnostic(
            codes.UNCLOSED_FRONTMATTER,
            Severity.ERROR,
            "front-matter is not closed: add a line that is exactly `---` after it",
            Span.at(0, 0, len(lines[0])),
        )
        return Document(path, kind, text, {}, {}, False, None, text, 0, (diag,))
    body = "\n".join(lines[close + 1 :])
    yaml_text = "\n".join(lines[1:close])
    data, spans, diags = _load_yaml(yaml_text, lines, first_line=1)
    spans[()] = NodeSpans(None, Span(Position(0, 0), Position(close, len(lines[close]))))
    return Document(path, kind, text, data, spans, True, (0, close), body, close + 1, tuple(diags))


def _load_yaml(
    yaml_text: str, lines: list[str], first_line: int
) -> tuple[dict[str, Any], dict[tuple[str | int, ...], NodeSpans], list[Diagnostic]]:
    try:
        node = _compose(yaml_text)
    except yaml.YAMLError as exc:
        repaired = _quote_colon_values(yaml_text)
        if repaired is not None:
            try:
                node = _compose(repaired[0])
            except yaml.YAMLError:
                pass
            else:
                data, spans, diags = _from_node(node, first_line, lines)
                for line_no in repaired[1]:
                    diags.append(_colon_diagnostic(line_no + first_line, lines))
                    _fix_repaired_spans(spans, line_no + first_line, lines)
                return data, spans, diags
        return {}, {}, [_yaml_error(exc, first_line, lines, first_line + yaml_text.count("\n") + 1)]
    return _from_node(node, first_line, lines)


def _compose(yaml_text: str) -> yaml.Node | None:
    loader = _Loader(yaml_text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _from_node(
    node: yaml.Node | None, first_line: int, lines: list[str]
) -> tuple[dict[str, Any], dict[tuple[str | int, ...], NodeSpans], list[Diagnostic]]:
    spans: dict[tuple[str | int, ...], NodeSpans] = {}
    diags: list[Diagnostic] = []
    if node is None:
        return {}, spans, diags
    if not isinstance(node, yaml.MappingNode):
        diags.append(
            Diagnostic(
                codes.NOT_A_MAPPING,
                Severity.ERROR,
                "front-matter must be a mapping of `key: value` lines",
                _span(node, first_line),
            )
        )
        return {}, spans, diags
    builder = _Builder(first_line, spans, diags)
    try:
        data = builder.build(node, ())
    except (_TooComplex, RecursionError):
        return (
            {},
            {},
            [
                Diagnostic(
                    codes.YAML_SYNTAX,
                    Severity.ERROR,
                    "front-matter YAML is too deeply nested or expands too many aliases",
                    Span.at(first_line),
                )
            ],
        )
    except yaml.YAMLError as exc:
        return {}, {}, [_yaml_error(exc, first_line, lines, len(lines))]
    return data, spans, diags


class _Builder:
    """Builds plain data from YAML nodes while recording where every entry sits."""

    def __init__(
        self,
        first_line: int,
        spans: dict[tuple[str | int, ...], NodeSpans],
        diags: list[Diagnostic],
    ) -> None:
        self.first_line = first_line
        self.spans = spans
        self.diags = diags
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: tuple[str | int, ...]) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooComplex
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node)
                sub = (*path, key)
                if key in out:
                    self.diags.append(
                        Diagnostic(
                            codes.DUPLICATE_KEY,
                            Severity.WARNING,
                            f"duplicate key `{key}`: YAML keeps only the last value",
                            _span(key_node, self.first_line),
                        )
                    )
                self.spans[sub] = NodeSpans(
                    _span(key_node, self.first_line), _span(value_node, self.first_line)
                )
                out[key] = self.build(value_node, sub)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                sub = (*path, index)
                self.spans[sub] = NodeSpans(None, _span(item, self.first_line))
                items.append(self.build(item, sub))
            return items
        value = self.constructor.construct_object(node, deep=True)
        if isinstance(value, datetime.date | datetime.datetime):
            return node.value
        if isinstance(value, bytes):
            return node.value
        return value

    def _key(self, node: yaml.Node) -> str:
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        return yaml.safe_dump(self.constructor.construct_object(node, deep=True)).strip()


def _span(node: yaml.Node, first_line: int) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(
        Position(start.line + first_line, start.column), Position(end.line + first_line, end.column)
    )


def _yaml_error(
    exc: yaml.YAMLError, first_line: int, lines: list[str], yaml_end: int
) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    if mark is not None and context_mark is not None and mark.line + first_line >= yaml_end:
        # The parser only noticed at the closing `---`; where the construct opened says more.
        mark = context_mark
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    message = f"invalid YAML in front-matter: {problem}"
    if context:
        message += f" ({context})"
    message += "; Claude Code drops all of this file's metadata"
    if mark is None:
        return Diagnostic(codes.YAML_SYNTAX, Severity.ERROR, message, Span.at(first_line))
    line = min(mark.line + first_line, len(lines) - 1)
    column = min(mark.column, len(lines[line]))
    end = min(column + 1, len(lines[line])) if lines[line] else column
    return Diagnostic(codes.YAML_SYNTAX, Severity.ERROR, message, Span.at(line, column, end))


_TOP_LEVEL_PLAIN = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*):[ \t]+(?![\"'|>\[{&*!%@`])(.*:\s.*)$")


def _quote_colon_values(yaml_text: str) -> tuple[str, list[int]] | None:
    """Quote top-level plain values that contain `: ` (Claude Code accepts them unquoted).

    Returns the repaired text and the 0-based lines changed, or None when there is nothing to
    repair.
    """
    out, changed = [], []
    for index, line in enumerate(yaml_text.split("\n")):
        match = _TOP_LEVEL_PLAIN.match(line)
        if match:
            value = match.group(2).rstrip()
            out.append(f"{match.group(1)}: '" + value.replace("'", "''") + "'")
            changed.append(index)
        else:
            out.append(line)
    return ("\n".join(out), changed) if changed else None


def _colon_diagnostic(line_no: int, lines: list[str]) -> Diagnostic:
    line = lines[line_no]
    key_end = line.index(":")
    value_start = key_end + 1 + (len(line[key_end + 1 :]) - len(line[key_end + 1 :].lstrip()))
    value = line[value_start:].rstrip()
    span = Span.at(line_no, value_start, value_start + len(value))
    quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return Diagnostic(
        codes.UNQUOTED_COLON,
        Severity.WARNING,
        "unquoted value contains `: `: Claude Code accepts it, but YAML parsers and other "
        "Agent Skills clients reject the file; quote the value",
        span,
        Fix("Quote the value", (TextEdit(span, quoted),)),
    )


def _fix_repaired_spans(
    spans: dict[tuple[str | int, ...], NodeSpans], line_no: int, lines: list[str]
) -> None:
    """After quoting a line for the retry, point its value span back at the original text."""
    line = lines[line_no]
    key_end = line.index(":")
    key = line[:key_end]
    value_start = key_end + 1 + (len(line[key_end + 1 :]) - len(line[key_end + 1 :].lstrip()))
    entry = spans.get((key,))
    if entry is not None:
        spans[(key,)] = NodeSpans(entry.key, Span.at(line_no, value_start, len(line.rstrip())))
