"""The repository is a Claude Code plugin: the real `claude plugin validate` accepts it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from agentflowd import __version__
from tests.conftest import REPO
from tests.e2e.conftest import child_env

pytestmark = pytest.mark.e2e

MANIFEST = REPO / ".claude-plugin" / "plugin.json"


def validate(claude_bin: Path, plugin: Path, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [str(claude_bin), "plugin", "validate", "--json", "--strict", str(plugin)],
        env=child_env(tmp_path, "http://127.0.0.1:9"),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return done.returncode, json.loads(done.stdout)


def test_manifest_version_matches_the_package() -> None:
    assert json.loads(MANIFEST.read_text())["version"] == __version__


def test_validate_passes_strict_and_lists_what_the_plugin_provides(
    claude_bin: Path, tmp_path: Path
) -> None:
    code, report = validate(claude_bin, REPO, tmp_path)
    assert code == 0, report
    assert report["success"] is True
    assert report["manifest"]["errors"] == []
    assert report["manifest"]["warnings"] == []
    provides = report["provides"]
    assert provides["hooks"] == [
        {"event": "UserPromptSubmit", "type": "command", "command": "agentflowd hook prompt-submit"}
    ]
    assert provides["lspServers"] == [
        {"name": "agentflowd", "command": "agentflowd", "args": ["serve"]}
    ]
    shipped = sorted(p.parent.name for p in (REPO / ".claude" / "skills").glob("*/SKILL.md"))
    assert shipped, "the repository ships no skills"
    assert sorted(provides["skills"]) == [f"agentflowd:{name}" for name in shipped]


def test_validate_rejects_a_broken_copy(claude_bin: Path, tmp_path: Path) -> None:
    # Proves the check above can fail: same plugin, one manifest error.
    copy = tmp_path / "plugin"
    shutil.copytree(REPO / ".claude-plugin", copy / ".claude-plugin")
    shutil.copytree(REPO / ".claude" / "skills", copy / ".claude" / "skills")
    manifest = json.loads(MANIFEST.read_text())
    manifest["name"] = "agent flowd"
    (copy / ".claude-plugin" / "plugin.json").write_text(json.dumps(manifest))
    code, report = validate(claude_bin, copy, tmp_path)
    assert code != 0
    assert report["success"] is False
    assert [error["path"] for error in report["manifest"]["errors"]] == ["name"]
