"""Scratch projects with skills, for tests and the benchmark scripts (which import this module)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
# Labelled catalogs written for matching: each has `skills` (name -> front-matter) and `cases`.
# The benchmarks' catalogs come from the scored ones (not the exemplar bank's own files).
CASE_FILES = tuple(
    sorted(
        path
        for folder in ("calibration", "heldout")
        for path in (REPO / "tests" / "match" / folder).glob("*.yaml")
    )
)
# The shared development set, beside the project (CI has it too).
DEV_CASES = REPO.parent / "shared" / "match" / "dev-cases.yaml"


def write_project(root: Path, skills: dict[str, dict]) -> Path:
    """A real project folder with .claude/skills/<name>/SKILL.md, as score.py writes it."""
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, spec in skills.items():
        folder = root / ".claude" / "skills" / name
        folder.mkdir(parents=True, exist_ok=True)
        front = {"name": name, **spec}
        text = "---\n" + yaml.safe_dump(front, sort_keys=False) + "---\n\n# " + name + "\n"
        (folder / "SKILL.md").write_text(text)
    return root


def case_catalog(files: tuple[Path, ...] = CASE_FILES) -> tuple[dict[str, dict], list[str]]:
    """Every skill of the case files (first definition wins) and every prompt, in file order."""
    skills: dict[str, dict] = {}
    prompts: list[str] = []
    for path in files:
        data = yaml.safe_load(path.read_text())
        for name, spec in data["skills"].items():
            skills.setdefault(name, spec)
        prompts.extend(p for p, _ in data["cases"])
    return skills, prompts
