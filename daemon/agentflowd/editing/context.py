"""Where the cursor sits in front-matter that is being typed, and is therefore often not valid YAML.

Completion and hover cannot wait for the document to parse, so this reads the lines the way a
person does: indentation and `- ` markers give the chain of parent keys, `key:` before the cursor
means a value is being typed. List items appear in paths as index 0 (the schema is the same for
every item).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from agentflowd.skills.model import Position, Span

Role = Literal["key", "value", "body"]

_LINE = re.compile(r"^(?P<indent> *)(?P<dashes>(?:-(?: +|$))*)(?P<rest>.*)$")
_KEY = re.compile(r"^(?P<q>[\"']?)(?P<key>[A-Za-z_$][\w.$-]*)(?P=q)[ \t]*:(?=[ \t]|$)")
_WORD = re.compile(r"[\w.$-]*")


@dataclass(frozen=True)
class LineNodes:
    """One front-matter line: its `- ` items and key, each with the column where it starts."""

    nodes: tuple[tuple[int, str | None], ...]  # (column, key) with key None for a `- ` item
    key: str | None
    key_col: int  # where the key (or the item's scalar) starts
    key_end: int
    colon: int | None  # column of the key's `:`
    value: str  # text after the colon, stripped, comment removed


@dataclass(frozen=True)
class Context:
    role: Role
    path: tuple[str | int, ...]  # key role: the mapping's path; value role: the value's path
    prefix: str  # what is typed between the token's start and the cursor
    replace: Span  # the token the completion replaces (contains the cursor)
    column: int  # column of the entry being typed (keys nest at column + 2)
    dash: bool = False  # the token follows a `- ` item marker
    flow: bool = False  # inside `[...]`
    followed_by_colon: bool = False  # key role: the line already has `key:` after the token
    siblings: frozenset[str] = frozenset()


def frontmatter_region(lines: Sequence[str]) -> tuple[int, int] | None:
    """First and past-the-last line of the front-matter content; an unclosed block runs to the end
    (that is what is on screen while it is being typed)."""
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            return 1, index
    return 1, len(lines)


def scan_line(line: str) -> LineNodes | None:
    """The structure of one line, or None for blank and comment lines."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    match = _LINE.match(line)
    assert match is not None  # the pattern matches any line
    indent = len(match["indent"])
    nodes: list[tuple[int, str | None]] = [
        (indent + m.start(), None) for m in re.finditer(r"-(?: +|$)", match["dashes"])
    ]
    key_col = indent + len(match["dashes"])
    rest = match["rest"]
    key_match = _KEY.match(rest)
    if key_match is None:
        return LineNodes(tuple(nodes), None, key_col, key_col + len(rest.rstrip()), None, "")
    nodes.append((key_col, key_match["key"]))
    colon = key_col + key_match.end() - 1
    value = _strip_comment(rest[key_match.end() :]).strip()
    return LineNodes(
        tuple(nodes), key_match["key"], key_col, key_col + key_match.end("key"), colon, value
    )


def _strip_comment(text: str) -> str:
    quote = None
    for index, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (index == 0 or text[index - 1] in " \t"):
            return text[:index]
    return text


def ancestors(
    lines: Sequence[str], first: int, line_no: int, column: int
) -> tuple[str | int, ...] | None:
    """Path of the mapping or list that holds an entry starting at (`line_no`, `column`); None when
    that spot is inside a scalar (a block scalar `|`/`>` or a plain value continued on more lines)."""
    path: list[str | int] = []
    current = column
    here = scan_line(lines[line_no]) if line_no < len(lines) else None
    if here is not None:
        for col, key in reversed(here.nodes):
            if col < current:
                path.append(0 if key is None else key)
                current = col
    for index in range(line_no - 1, first - 1, -1):
        if current == 0:
            break
        scanned = scan_line(lines[index])
        if scanned is None:
            continue
        for col, key in reversed(scanned.nodes):
            if col >= current:
                continue
            if not path and key is not None and scanned.value and scanned.value[0] not in "&!":
                return None
            path.append(0 if key is None else key)
            current = col
    path.reverse()
    return tuple(path)


def siblings(lines: Sequence[str], region: tuple[int, int], line_no: int, column: int) -> set[str]:
    """Keys already present at `column` in the mapping around `line_no` (that mapping ends at the
    first line, up or down, with something at a smaller column)."""
    found: set[str] = set()
    for step in (-1, 1):
        index = line_no + step
        while region[0] <= index < region[1]:
            scanned = scan_line(lines[index])
            index += step
            if scanned is None:
                continue
            if scanned.nodes and scanned.nodes[0][0] < column:
                if step < 0 and scanned.key is not None and scanned.key_col == column:
                    found.add(scanned.key)  # `- first_key:` opens the item we are in
                break
            if scanned.key is not None and scanned.key_col == column:
                found.add(scanned.key)
    return found


def locate(lines: Sequence[str], pos: Position) -> Context | None:
    """The completion context at `pos`; None where nothing can be completed."""
    region = frontmatter_region(lines)
    if region is None or not region[0] <= pos.line < region[1]:
        line = lines[pos.line] if pos.line < len(lines) else ""
        if region is not None and pos.line < region[0]:
            return None
        span = Span.at(pos.line, pos.character)
        return Context("body", (), line[: pos.character], span, pos.character)
    line = lines[pos.line]
    col = min(pos.character, len(line))
    before = line[:col]
    match = _LINE.match(before)
    assert match is not None
    token_col = len(match["indent"]) + len(match["dashes"])
    dash = bool(match["dashes"])
    rest_before = match["rest"]
    if rest_before.lstrip().startswith("#"):
        return None
    key_match = _KEY.match(rest_before)
    if key_match is not None:
        return _value_context(lines, region, pos.line, line, col, token_col, key_match)
    if not re.fullmatch(r"[\w.$-]*", rest_before):
        return None
    path = ancestors(lines, region[0], pos.line, token_col)
    if path is None:
        return None
    after = _WORD.match(line, col)
    end = after.end() if after else col
    followed = bool(re.match(r"[ \t]*:", line[end:]))
    return Context(
        "key",
        path,
        rest_before,
        Span.at(pos.line, token_col, end),
        token_col,
        dash=dash,
        followed_by_colon=followed,
        siblings=frozenset(siblings(lines, region, pos.line, token_col)),
    )


def _value_context(
    lines: Sequence[str],
    region: tuple[int, int],
    line_no: int,
    line: str,
    col: int,
    token_col: int,
    key_match: re.Match[str],
) -> Context | None:
    parent = ancestors(lines, region[0], line_no, token_col)
    if parent is None:
        return None
    path = (*parent, key_match["key"])
    after_colon = token_col + key_match.end()
    value_start = after_colon + len(line[after_colon:]) - len(line[after_colon:].lstrip(" \t"))
    value_text = line[value_start:col]
    if value_text.startswith("["):
        cut = max(value_text.rfind("["), value_text.rfind(","))
        start = value_start + cut + 1
        start += len(line[start:col]) - len(line[start:col].lstrip())
        end = col
        while end < len(line) and line[end] not in ",]":
            end += 1
        end = max(col, start + len(line[start:end].rstrip()))
        return Context(
            "value", (*path, 0), line[start:col], Span.at(line_no, start, end), token_col, flow=True
        )
    if value_text.startswith(("|", ">", "{", '"', "'", "&", "*", "!")) and col > value_start:
        return None
    if col < value_start:
        return Context("value", path, "", Span.at(line_no, col), token_col)
    end = value_start + len(_strip_comment(line[value_start:]).rstrip())
    return Context(
        "value", path, value_text, Span.at(line_no, value_start, max(end, col)), token_col
    )
