"""Column conversion between code points and the client's encoding (UTF-16 by default)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentflowd.editing.positions import LineIndex, from_client_column, to_client_column
from agentflowd.skills.model import Position

LINE = "a😀b中c"  # an astral emoji (2 UTF-16 units, 4 UTF-8 bytes) and a CJK character (1, 3)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", [0, 1, 3, 4, 5, 6]),
        ("utf-8", [0, 1, 5, 6, 9, 10]),
        ("utf-32", [0, 1, 2, 3, 4, 5]),
    ],
)
def test_code_points_to_client_units(encoding: str, expected: list[int]) -> None:
    assert [to_client_column(LINE, c, encoding) for c in range(6)] == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("encoding", "units", "column"),
    [
        ("utf-16", 3, 2),
        ("utf-16", 2, 1),  # inside the surrogate pair: the emoji's start
        ("utf-8", 9, 4),
        ("utf-8", 7, 3),  # inside the CJK character's bytes
        ("utf-16", 99, 5),  # past the end clamps
        ("utf-32", 4, 4),
    ],
)
def test_client_units_to_code_points(encoding: str, units: int, column: int) -> None:
    assert from_client_column(LINE, units, encoding) == column  # type: ignore[arg-type]


@given(st.text(max_size=40), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_round_trip_at_every_character_boundary(line: str, encoding: str) -> None:
    line = line.replace("\r", "").replace("\n", "")
    for column in range(len(line) + 1):
        units = to_client_column(line, column, encoding)  # type: ignore[arg-type]
        assert from_client_column(line, units, encoding) == column  # type: ignore[arg-type]


def test_line_index_follows_lsp_line_breaks_only() -> None:
    # \u2028 and \x0c are not line breaks for LSP even though str.splitlines splits at them.
    index = LineIndex("a\u2028b\r\nc😀d\re\x0cf\n", "utf-16")
    assert len(index.lines) == 4
    assert index.to_client(Position(1, 3)) == (1, 4)
    assert index.from_client(1, 4) == Position(1, 3)
    assert index.to_client(Position(2, 3)) == (2, 3)
    assert index.from_client(9, 0) == Position(3, 0)
