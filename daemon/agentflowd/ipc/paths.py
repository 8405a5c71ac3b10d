"""Where a project's daemon socket lives (shared by client and server; standard library only).

Preferred: `<project>/.agentflow/daemon.sock`. A Unix socket path is limited to 107 bytes on
Linux (103 on macOS), so deep projects fall back to `$XDG_RUNTIME_DIR/agentflowd/<hash>.sock`,
or `/tmp/agentflowd-<uid>/<hash>.sock` without a runtime dir; the hash is of the project path.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from agentflowd.project import state_dir

SOCKET_NAME = "daemon.sock"
PID_NAME = "daemon.pid"
LOG_NAME = "daemon.log"
MAX_SOCKET_PATH = 103 if sys.platform == "darwin" else 107


def project_key(project: Path) -> Path:
    """The absolute, symlink-free project path both sides agree on."""
    return project.resolve()


def socket_path(project: Path) -> Path:
    project = project_key(project)
    preferred = state_dir(project) / SOCKET_NAME
    if len(os.fsencode(preferred)) <= MAX_SOCKET_PATH:
        return preferred
    digest = hashlib.sha256(os.fsencode(project)).hexdigest()[:24]
    return runtime_dir() / f"{digest}.sock"


def runtime_dir() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base and Path(base).is_dir():
        return Path(base) / "agentflowd"
    import tempfile  # only deep projects without a runtime dir get here; keep the import off hooks

    return Path(tempfile.gettempdir()) / f"agentflowd-{os.getuid()}"


def lock_path(socket: Path) -> Path:
    return socket.with_name(socket.name + ".lock")


def pid_path(project: Path) -> Path:
    return state_dir(project_key(project)) / PID_NAME


def log_path(project: Path) -> Path:
    return state_dir(project_key(project)) / LOG_NAME
