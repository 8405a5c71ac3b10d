"""Column conversion between code points (the core model) and a client's position encoding.

LSP counts columns in UTF-16 code units unless the client negotiated UTF-8 or UTF-32, and ends
lines at \\n, \\r\\n or \\r only (unlike `str.splitlines`, which also splits at \\x0b, \\x1c,
\\u2028 and others): `split_lines` from the parser follows the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from agentflowd.skills.model import Position, Span
from agentflowd.skills.parse import split_lines

Encoding = Literal["utf-8", "utf-16", "utf-32"]


def _units(char: str, encoding: Encoding) -> int:
    point = ord(char)
    if encoding == "utf-16":
        return 2 if point > 0xFFFF else 1
    if encoding == "utf-8":
        if point < 0x80:
            return 1
        if point < 0x800:
            return 2
        return 3 if point < 0x10000 else 4
    return 1


def to_client_column(line: str, column: int, encoding: Encoding) -> int:
    """Code-point `column` in `line` as client code units (clamped to the line's end)."""
    head = line[: max(column, 0)]
    if encoding == "utf-32" or head.isascii():
        return len(head)
    return sum(_units(ch, encoding) for ch in head)


def from_client_column(line: str, units: int, encoding: Encoding) -> int:
    """Client code units in `line` as a code-point column; a position inside a character rounds
    down to that character's start, one past the end clamps to the line's end."""
    if encoding == "utf-32" or line.isascii():
        return min(max(units, 0), len(line))
    seen = 0
    for index, ch in enumerate(line):
        step = _units(ch, encoding)
        if seen + step > units:
            return index
        seen += step
    return len(line)


class LineIndex:
    """A document's lines, for converting whole positions and spans in either direction."""

    def __init__(self, text: str, encoding: Encoding = "utf-16") -> None:
        self.lines: Sequence[str] = split_lines(text)
        self.encoding = encoding

    def _line(self, line: int) -> str:
        return self.lines[line] if 0 <= line < len(self.lines) else ""

    def to_client(self, pos: Position) -> tuple[int, int]:
        if pos.line >= len(self.lines):
            last = len(self.lines) - 1
            return last, to_client_column(self.lines[last], len(self.lines[last]), self.encoding)
        return pos.line, to_client_column(self._line(pos.line), pos.character, self.encoding)

    def span_to_client(self, span: Span) -> tuple[tuple[int, int], tuple[int, int]]:
        return self.to_client(span.start), self.to_client(span.end)

    def from_client(self, line: int, character: int) -> Position:
        if line >= len(self.lines):
            last = len(self.lines) - 1
            return Position(last, len(self.lines[last]))
        return Position(line, from_client_column(self._line(line), character, self.encoding))
