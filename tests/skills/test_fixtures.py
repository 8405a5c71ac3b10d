"""Every fixture skill gets exactly the findings in its expected.yaml, in both modes.

`valid/` cases load in Claude Code (no errors in default mode); `invalid/` cases have errors.
Findings are written `line:column severity code` with 1-based positions, as the CLI prints them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.conftest import FIXTURES

from agentflowd.skills.model import Severity
from agentflowd.skills.parse import load_document
from agentflowd.skills.validate import validate_document

CASES = sorted(p for p in (FIXTURES / "skills").glob("*/*") if p.is_dir())


def _render(diag) -> str:
    start = diag.span.start
    return f"{start.line + 1}:{start.character + 1} {diag.severity.label} {diag.code}"


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
@pytest.mark.parametrize("mode", ["default", "strict"])
def test_fixture_findings(case: Path, mode: str) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))[mode]
    diags = validate_document(load_document(case / "SKILL.md"), strict=mode == "strict")
    assert [_render(d) for d in diags] == expected


@pytest.mark.parametrize("case", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_valid_means_no_default_errors(case: Path) -> None:
    diags = validate_document(load_document(case / "SKILL.md"))
    has_error = any(d.severity is Severity.ERROR for d in diags)
    assert has_error == (case.parent.name == "invalid")


def test_fixture_set_covers_every_mode_of_failure() -> None:
    seen = set()
    for case in CASES:
        doc = load_document(case / "SKILL.md")
        for strict in (False, True):
            seen.update(d.code for d in validate_document(doc, strict=strict))
    for code in (
        "AF001",
        "AF002",
        "AF003",
        "AF004",
        "AF005",
        "AF010",
        "AF011",
        "AF012",
        "AF013",
        "AF014",
        "AF015",
        "AF020",
        "AF021",
        "AF022",
        "AF023",
        "AF024",
        "AF030",
        "AF031",
        "AF032",
        "AF050",
        "AF051",
    ):
        assert code in seen, code
