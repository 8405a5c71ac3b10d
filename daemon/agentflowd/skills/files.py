"""Expand the paths a user names (a SKILL.md, a skill folder, or a tree) into the files to check."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from agentflowd.errors import UsageError
from agentflowd.skills.parse import infer_kind

# Folders that never hold skills worth reading, and can be huge.
SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".agentflow", ".tox"}
)
MAX_FILES = 100_000


def expand(paths: Iterable[Path]) -> list[Path]:
    """SKILL.md, sub-agent and command files named by `paths`, in a stable order, without repeats."""
    out: dict[Path, None] = {}
    for path in paths:
        if not path.exists():
            raise UsageError(f"no such file or folder: {path}")
        if path.is_file():
            out[path] = None
        elif (path / "SKILL.md").is_file():
            out[path / "SKILL.md"] = None
        else:
            for found in _walk(path):
                out[found] = None
        if len(out) > MAX_FILES:
            raise UsageError(f"more than {MAX_FILES} files under {path}; name a smaller tree")
    return list(out)


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and (d == ".claude" or not d.startswith("."))
        )
        for filename in sorted(filenames):
            candidate = Path(dirpath) / filename
            if filename.lower() == "skill.md" or (
                filename.endswith(".md") and infer_kind(candidate) in ("agent", "command")
            ):
                found.append(candidate)
    return found
