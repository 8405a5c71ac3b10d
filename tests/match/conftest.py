from __future__ import annotations

from pathlib import Path

import pytest

from agentflowd.skills.model import Skill
from tests.projects import write_project

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
