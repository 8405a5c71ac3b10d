"""Hover, document symbols, links, go-to-definition and code actions as pure functions."""

from __future__ import annotations

from pathlib import Path

from agentflowd.editing.actions import fix_all, quick_fixes
from agentflowd.editing.facts import AgentType, ProjectFacts
from agentflowd.editing.hover import hover
from agentflowd.editing.links import definition, document_links
from agentflowd.editing.symbols import document_symbols
from agentflowd.skills import codes
from agentflowd.skills.model import Position, Span
from agentflowd.skills.parse import parse_document
from agentflowd.skills.validate import validate_document

SKILL = """---
name: demo
description: Reviews code.
coordination:
  topology: mesh
agents:
  - type: security-auditor
    executor:
      kind: command
      argv: [python3, "scripts/check.py"]
---
# Demo

Run [the check](scripts/check.py) and read [notes](references/missing.md).

```md
# not a heading
```
## Steps
### One
## Done
"""


def make_skill(tmp_path: Path, text: str = SKILL) -> Path:
    folder = tmp_path / "demo"
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "check.py").write_text("print('ok')\n")
    (folder / "SKILL.md").write_text(text)
    return folder / "SKILL.md"


def test_hover_on_nested_key_gives_description_values_and_example() -> None:
    doc = parse_document(SKILL, Path("/p/demo/SKILL.md"))
    got = hover(doc, Position(4, 4))
    assert got is not None
    assert got.span == Span.at(4, 2, 10)
    assert "`coordination.topology`" in got.markdown
    assert "Values: `mesh`, `star`, `ring`, `hierarchy`" in got.markdown
    assert "```yaml\ncoordination:\n  topology: mesh\n```" in got.markdown
    kind = hover(doc, Position(8, 8))
    assert kind is not None and "`agents[].executor.kind`" in kind.markdown
    assert "agents:\n  - executor:\n      kind: command" in kind.markdown


def test_hover_on_agent_type_value_names_the_agent() -> None:
    facts = ProjectFacts(agents=(AgentType("security-auditor", "Audits.", Path("/a.md")),))
    doc = parse_document(SKILL, Path("/p/demo/SKILL.md"))
    got = hover(doc, Position(6, 14), facts)
    assert got is not None
    assert got.markdown.startswith("Agent type **security-auditor**: Audits.")
    assert hover(doc, Position(6, 14)).markdown.startswith("Agent type `security-auditor`: not")


def test_hover_nothing_on_unknown_key_blank_line_or_other_file() -> None:
    doc = parse_document("---\nnmae: x\n\n---\n", Path("/p/demo/SKILL.md"))
    assert hover(doc, Position(1, 1)) is None
    assert hover(doc, Position(2, 0)) is None
    other = parse_document("---\nname: x\n---\n", Path("/p/README.md"))
    assert hover(other, Position(1, 1)) is None


def test_hover_on_body_link_tells_whether_the_file_exists(tmp_path: Path) -> None:
    path = make_skill(tmp_path)
    doc = parse_document(path.read_text(), path)
    ok = hover(doc, Position(13, 20))
    missing = hover(doc, Position(13, 55))
    assert ok is not None and ok.markdown.endswith("exists")
    assert missing is not None and "**missing**" in missing.markdown


def test_symbols_nest_frontmatter_keys_and_headings_outside_fences() -> None:
    symbols = document_symbols(parse_document(SKILL, Path("/p/demo/SKILL.md")))
    names = [s.name for s in symbols]
    assert names == ["name", "description", "coordination", "agents", "Demo"]
    agents = symbols[3]
    assert [c.name for c in agents.children] == ["[0] security-auditor"]
    assert [c.name for c in agents.children[0].children] == ["type", "executor"]
    demo = symbols[4]
    assert [c.name for c in demo.children] == ["Steps", "Done"]
    assert [c.name for c in demo.children[0].children] == ["One"]
    assert demo.children[0].span.end.line == 19  # the section ends before `## Done`
    for sym in symbols:
        assert sym.span.start <= sym.selection.start and sym.selection.end <= sym.span.end
    assert symbols[0].detail == "demo"


def test_document_links_point_at_existing_bundled_files(tmp_path: Path) -> None:
    path = make_skill(tmp_path)
    doc = parse_document(path.read_text(), path)
    links = document_links(doc)
    targets = {(link.span.start.line, link.target.name) for link in links}
    assert targets == {(9, "check.py"), (13, "check.py")}  # the missing file is not linked
    argv = next(link for link in links if link.span.start.line == 9)
    assert path.read_text().splitlines()[9][argv.span.start.character :].startswith("scripts/")


def test_definition_of_link_and_agent_type(tmp_path: Path) -> None:
    path = make_skill(tmp_path)
    doc = parse_document(path.read_text(), path)
    [link] = definition(doc, Position(13, 25))
    assert link.target == (path.parent / "scripts" / "check.py").resolve()
    agent_file = tmp_path / ".claude" / "agents" / "security-auditor.md"
    facts = ProjectFacts(agents=(AgentType("security-auditor", "Audits.", agent_file),))
    [agent] = definition(doc, Position(6, 12), facts)
    assert agent.target == agent_file
    assert definition(doc, Position(6, 12)) == []  # unknown agent: nowhere to go
    assert definition(doc, Position(2, 3), facts) == []


def test_every_fixable_diagnostic_becomes_a_quick_fix() -> None:
    text = "---\nname: other\ndescripton: x\neffort: hihg\nversion: 1.10\n---\nBody.\n"
    doc = parse_document(text, Path("/p/demo/SKILL.md"))
    diags = validate_document(doc)
    fixable = [d for d in diags if d.fix is not None]
    assert {d.code for d in fixable} >= {
        codes.NAME_MISMATCH,
        codes.UNKNOWN_KEY,
        codes.INVALID_ENUM,
        codes.YAML_NUMBER_TRAP,
    }
    whole = Span(Position(0, 0), Position(6, 0))
    assert [f.diagnostic for f in quick_fixes(diags, whole)] == fixable
    [only] = quick_fixes(diags, Span.at(3, 9))
    assert only.diagnostic.code == codes.INVALID_ENUM and only.edits[0].new_text == "high"
    assert quick_fixes(diags, Span.at(6, 2)) == []


def test_fix_all_skips_overlapping_edits_and_keeps_insertions() -> None:
    text = "---\nmodel: sonnet\n---\nThe body text.\n"
    diags = validate_document(parse_document(text, Path("/p/demo/SKILL.md")))
    edits = fix_all(diags)
    assert [e.new_text for e in edits] == ["name: demo\n", 'description: "The body text."\n']
    doubled = fix_all([*diags, *diags])
    assert doubled == edits + edits  # two insertions at one point do not collide
    text = "---\nname: x\neffort: hihg\n---\n"
    diag = next(d for d in validate_document(parse_document(text)) if d.fix is not None)
    assert fix_all([diag, diag]) == diag.fix.edits
