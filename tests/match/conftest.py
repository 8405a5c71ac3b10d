from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agentflowd.skills.model import Skill

HERE = Path(__file__).parent


def make_skill(name: str, description: str, **kw: object) -> Skill:
    return Skill(
        name=name,
        description=description,
        path=Path(f"/nowhere/{name}/SKILL.md"),
        source="project",
        kind="skill",
        **kw,  # type: ignore[arg-type]
    )


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


SMALL_CATALOG = {
    "regex-builder": {"description": "Builds, explains and tests regular expressions."},
    "docker-deploy": {
        "description": "Writes Dockerfiles and compose files and deploys containers.",
    },
    "project-memory": {
        "description": "Saves decisions and facts about the project and looks them up later.",
        "triggers": ["remember"],
    },
    "release-notes": {
        "description": "Writes release notes from merged pull requests.",
        "disable-model-invocation": True,
    },
}


@pytest.fixture
def small_project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", SMALL_CATALOG)
