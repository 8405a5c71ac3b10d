"""The `skills` commands end to end, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import FIXTURES, REPO

VALID = FIXTURES / "skills" / "valid"
INVALID = FIXTURES / "skills" / "invalid"


def test_validate_exit_codes_and_compiler_style_lines(run_cli) -> None:
    ok = run_cli("skills", "validate", str(VALID / "spec-minimal"))
    assert ok.returncode == 0, ok.stderr
    warn = run_cli("skills", "validate", str(VALID / "yaml-traps" / "SKILL.md"))
    assert warn.returncode == 0
    assert f"{VALID / 'yaml-traps' / 'SKILL.md'}:4:10: warning AF030 " in warn.stdout
    bad = run_cli("skills", "validate", str(INVALID / "malformed-yaml"))
    assert bad.returncode == 1
    assert ":3:14: error AF004 invalid YAML" in bad.stdout
    missing = run_cli("skills", "validate", "/no/such/path")
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and "Traceback" not in missing.stderr
    usage = run_cli("skills", "validate", "--format", "xml")
    assert usage.returncode == 2


def test_validate_tree_json_and_strict(run_cli) -> None:
    out = run_cli("skills", "validate", str(VALID), "--format", "json")
    assert out.returncode == 0
    report = json.loads(out.stdout)
    assert report["summary"]["files"] == len(list(VALID.glob("*/SKILL.md")))
    assert report["summary"]["error"] == 0
    strict = run_cli(
        "skills", "validate", "--strict", str(VALID / "orchestration"), "--format", "json"
    )
    assert strict.returncode == 1
    codes = [d["code"] for f in json.loads(strict.stdout)["files"] for d in f["diagnostics"]]
    assert set(codes) == {"AF020"}
    spec = run_cli(
        "skills", "validate", "--strict", str(VALID / "pdf"), str(VALID / "spec-metadata")
    )
    assert spec.returncode == 0


def test_fix_data_in_json(run_cli) -> None:
    out = run_cli("skills", "validate", str(VALID / "unknown-keys"), "--format", "json")
    diags = json.loads(out.stdout)["files"][0]["diagnostics"]
    fixed = {d["code"]: d["fix"]["edits"][0]["newText"] for d in diags if "fix" in d}
    assert (
        fixed == {"AF020": "triggers", "AF024": "disable-model-invocation"}
        or fixed["AF024"] == "disable-model-invocation"
    )


def test_list_and_show_levels(run_cli, tmp_path: Path) -> None:
    listed = run_cli("skills", "list", "--json", "--project", str(REPO))
    assert listed.returncode == 0, listed.stderr
    names = [s["name"] for s in json.loads(listed.stdout)["skills"]]
    assert {"skill-authoring", "project-memory", "repo-review"} <= set(names)
    shown = run_cli(
        "skills", "show", "skill-authoring", "--level", "3", "--json", "--project", str(REPO)
    )
    detail = json.loads(shown.stdout)
    assert detail["files"] == {"references": ["references/keys.md"]}
    assert detail["links"] == [
        {
            "target": "references/keys.md",
            "line": 18,
            "external": False,
            "exists": True,
            "escapes": False,
        }
    ]
    assert "Skill authoring" in detail["body"]
    missing = run_cli("skills", "show", "nope", "--project", str(tmp_path))
    assert missing.returncode == 2 and "no skill named" in missing.stderr
