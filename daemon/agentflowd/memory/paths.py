"""Where a project's memory database lives."""

from __future__ import annotations

import os
from pathlib import Path

from agentflowd.project import find_project_root, state_dir

DB_ENV = "AGENTFLOWD_MEMORY_DB"
DB_NAME = "memory.db"


def resolve_db_path(*, db: Path | None = None, project: Path | None = None) -> Path:
    """The database path: `db` if given, else $AGENTFLOWD_MEMORY_DB, else <project>/.agentflow/memory.db."""
    if db is not None:
        return Path(db).expanduser().resolve()
    from_env = os.environ.get(DB_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser().resolve()
    return state_dir(find_project_root(project)) / DB_NAME
