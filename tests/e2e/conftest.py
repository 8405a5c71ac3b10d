"""Fixtures for driving the real Claude Code CLI offline against the stand-in API.

The `claude` binary comes from `scripts/install-claude-code.sh` (pinned, into `.tools/`), or from
the path in AGENTFLOWD_CLAUDE. Without it every test here skips, saying how to install it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.e2e.anthropic_standin import StandIn

INSTALL_HINT = "Claude Code CLI not installed: run scripts/install-claude-code.sh"
DEFAULT_CLAUDE = REPO / ".tools" / "claude-code" / "node_modules" / ".bin" / "claude"
CLAUDE_TIMEOUT = 60

# The scratch project's catalog: clearly separated topics, so a prompt names one skill at most.
SCRATCH_SKILLS: dict[str, tuple[str, list[str], str]] = {
    "pdf-forms": (
        "Fill in PDF forms and extract the values of PDF form fields. Use when the user asks "
        "to fill out, complete or read a PDF form.",
        ["fill out this PDF form", "complete the PDF form", "read the fields of a PDF form"],
        "MARKER-PDF-FORMS: open the form with pdftk, dump its fields, then fill them.",
    ),
    "db-migrations": (
        "Write and apply database schema migrations with Alembic. Use when the user wants to "
        "add a column, create a table or migrate the database schema.",
        ["add a column to the users table", "write a database migration"],
        "MARKER-DB-MIGRATIONS: generate a revision with alembic revision --autogenerate.",
    ),
    "release-notes": (
        "Draft release notes and a changelog entry from the merged pull requests since the "
        "last git tag. Use when the user prepares a release.",
        ["write the release notes", "draft the changelog for the new version"],
        "MARKER-RELEASE-NOTES: list merged pull requests since the last tag.",
    ),
}


def skill_text(name: str, description: str, triggers: list[str], body: str) -> str:
    lines = "".join(f"  - {json.dumps(t)}\n" for t in triggers)
    return (
        f"---\nname: {name}\ndescription: {json.dumps(description)}\ntriggers:\n{lines}---\n"
        f"# {name}\n\n{body}\n"
    )


@pytest.fixture(scope="session")
def claude_bin() -> Path:
    configured = os.environ.get("AGENTFLOWD_CLAUDE")
    path = Path(configured) if configured else DEFAULT_CLAUDE
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"{INSTALL_HINT} (looked for {path})")
    return path


@pytest.fixture
def standin() -> Iterator[StandIn]:
    with StandIn() as server:
        yield server


@pytest.fixture
def scratch_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for name, (description, triggers, body) in SCRATCH_SKILLS.items():
        folder = project / ".claude" / "skills" / name
        folder.mkdir(parents=True)
        (folder / "SKILL.md").write_text(skill_text(name, description, triggers, body))
    return project


def child_env(tmp_path: Path, base_url: str) -> dict[str, str]:
    """A clean environment: nothing of the caller's Claude or Anthropic settings leaks in."""
    home = tmp_path / "home"
    scratch_tmp = tmp_path / "tmp"
    home.mkdir(exist_ok=True)
    scratch_tmp.mkdir(exist_ok=True)
    # The plugin's hook and LSP commands are plain `agentflowd`: this venv's must come first.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {
        "PATH": path,
        "HOME": str(home),
        "TMPDIR": str(scratch_tmp),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "ANTHROPIC_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "sk-ant-standin-not-a-key",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        # An unscripted model call gets a 500 from the stand-in: fail at once, do not back off.
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "DISABLE_AUTOUPDATER": "1",
    }


@dataclass(frozen=True)
class ClaudeRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def result(self) -> dict[str, Any]:
        assert self.returncode == 0, f"claude exited {self.returncode}: {self.stderr[-2000:]}"
        return json.loads(self.stdout)


@pytest.fixture
def run_claude(claude_bin: Path, standin: StandIn, tmp_path: Path) -> Callable[..., ClaudeRun]:
    """Run `claude -p PROMPT --output-format json` headless in a project, plugin loaded."""

    def run(project: Path, prompt: str, *extra: str, plugin: bool = True) -> ClaudeRun:
        argv = [str(claude_bin), "-p", prompt, "--output-format", "json", *extra]
        if plugin:
            argv += ["--plugin-dir", str(REPO)]
        done = subprocess.run(
            argv,
            cwd=project,
            env=child_env(tmp_path, standin.base_url),
            capture_output=True,
            text=True,
            timeout=CLAUDE_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        return ClaudeRun(done.returncode, done.stdout, done.stderr)

    return run
