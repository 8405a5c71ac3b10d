"""Where a project starts and where agentflowd keeps its state inside it."""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR = ".agentflow"


def find_project_root(start: Path | None = None) -> Path:
    """The nearest ancestor of `start` holding `.git` or `.claude`; `start` itself when there is none."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists() or (folder / ".claude").is_dir():
            return folder
    return here


def find_repo_root(start: Path) -> Path | None:
    """The nearest ancestor of `start` holding `.git`, or None outside a repository."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return None


def state_dir(project: Path) -> Path:
    """The project's `.agentflow/` folder (not created here)."""
    return project / STATE_DIR


def home_dir() -> Path:
    """The user's home, honouring HOME so tests can point it at a scratch folder."""
    return Path(os.environ.get("HOME") or Path.home())


LOG_LIMIT_BYTES = 1_000_000


def cap_log(path: Path, limit: int = LOG_LIMIT_BYTES) -> None:
    """Keep a log that is appended to forever bounded: past `limit` bytes it becomes `<name>.1`
    (replacing the older one) and the next write starts a fresh file. Best effort: a log that
    cannot be moved is left as it is."""
    try:
        if path.stat().st_size > limit:
            path.replace(path.with_name(path.name + ".1"))
    except OSError:
        pass
