from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from agentflowd.skills.model import Position
from agentflowd.skills.parse import MAX_BYTES, load_document, parse_document
from agentflowd.skills.validate import validate_document


def test_body_keeps_later_rules_and_spans_point_at_source() -> None:
    text = "---\nname: x\ndescription: >-\n  folded\n  text\n---\n# Title\n---\nafter rule\n"
    doc = parse_document(text)
    assert doc.data == {"name": "x", "description": "folded text"}
    assert doc.body == "# Title\n---\nafter rule\n"
    assert doc.body_line == 6
    assert doc.spans[("name",)].value.start == Position(1, 6)
    assert doc.spans[("description",)].key.start == Position(2, 0)


def test_columns_count_code_points_not_bytes() -> None:
    doc = parse_document("---\nname: 😀技\nversion: 1\n---\n")
    assert doc.spans[("name",)].value.end == Position(1, 8)


def test_malformed_yaml_keeps_body_and_points_at_the_problem() -> None:
    doc = parse_document("---\nname: ok\ndescription: 'open\n---\nbody text\n")
    assert doc.body == "body text\n"
    assert doc.data == {}
    [diag] = doc.diagnostics
    assert diag.code == "AF004"
    assert diag.span.start.line in (2, 3)


def test_alias_bomb_is_refused_not_expanded() -> None:
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefgh":
        prev = chr(ord(level) - 1)
        bomb += f"{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
    doc = parse_document(bomb + "---\nbody\n")
    assert [d.code for d in doc.diagnostics] == ["AF004"]
    assert doc.body == "body\n"


def test_oversized_file_gives_one_diagnostic(tmp_path: Path) -> None:
    path = tmp_path / "big" / "SKILL.md"
    path.parent.mkdir()
    path.write_bytes(b"---\nname: big\n---\n" + b"x" * MAX_BYTES)
    doc = load_document(path)
    assert [d.code for d in validate_document(doc)] == ["AF001"]
    assert "1 MiB" in doc.diagnostics[0].message


def test_unreadable_path_is_a_diagnostic(tmp_path: Path) -> None:
    doc = load_document(tmp_path / "missing" / "SKILL.md")
    assert [d.code for d in doc.diagnostics] == ["AF001"]


def test_kinds_follow_location(tmp_path: Path) -> None:
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    (agents / "a.md").write_text("---\nname: a\n---\n")
    assert load_document(agents / "a.md").kind == "agent"
    doc = load_document(agents / "a.md")
    assert [d.code for d in validate_document(doc)] == ["AF011"]


text_with_markers = st.lists(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [
                "---",
                "---\r",
                "name: x",
                "a: [",
                "\ufeff",
                "\r\n",
                ": :",
                "&a *a",
                "- - -",
                "\x00",
                "\ud7ff",
            ]
        ),
    ),
    max_size=12,
).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(text_with_markers)
def test_any_text_parses_and_validates_without_raising(text: str) -> None:
    for strict in (False, True):
        for diag in validate_document(parse_document(text), strict=strict):
            assert diag.span.start <= diag.span.end or diag.span.start.line == diag.span.end.line


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    validate_document(parse_document(b"---\n" + raw))
