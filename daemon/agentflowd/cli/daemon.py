"""`agentflowd daemon start|stop|status`: a background daemon (the socket, no editor) per project."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from agentflowd.cli.exit_codes import EXIT_ENVIRONMENT
from agentflowd.cli.options import JSON, PROJECT, project_root
from agentflowd.cli.process import alive
from agentflowd.errors import AgentflowError, UsageError
from agentflowd.project import cap_log

START_TIMEOUT = 15.0  # seconds for a new daemon to answer its first ping
STOP_TIMEOUT = 5.0  # seconds to wait after asking politely, and again after SIGTERM


@click.group(name="daemon")
def command() -> None:
    """Start, stop or query a background daemon for a project."""


def _ping(project: Path) -> dict[str, Any] | None:
    from agentflowd.ipc import client

    try:
        return client.call(project, "ping", {}, timeout=2.0)
    except client.DaemonUnavailable:
        return None


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return not alive(pid)


def _describe(info: dict[str, Any]) -> str:
    mode = "background daemon" if info.get("mode") == "socket" else "an editor's language server"
    skills = info.get("skills")
    return (
        f"running: pid {info['pid']}, {mode}, project {info['project']}, "
        f"up {info['uptime']:.0f}s" + (f", {skills} skill(s)" if skills is not None else "")
    )


@command.command()
@PROJECT
@JSON
def start(project: Path | None, as_json: bool) -> None:
    """Start a background daemon for the project unless one already serves it."""
    from agentflowd.ipc import paths

    root = project_root(project)
    info = _ping(root)
    if info is None:
        info = _spawn(root)
        started = True
    else:
        started = False
    if as_json:
        click.echo(json.dumps({"started": started, "socket": str(paths.socket_path(root)), **info}))
    else:
        click.echo(("started; " if started else "already ") + _describe(info))


def _spawn(root: Path) -> dict[str, Any]:
    from agentflowd.ipc import paths

    log_file = paths.log_path(root)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cap_log(log_file)
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--project", str(root),
             "--log-level", "info"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=root,
            start_new_session=True,  # survives the terminal that started it
            close_fds=True,
        )  # fmt: skip
    from agentflowd.ipc import client

    try:
        return client.wait_for_daemon(root, START_TIMEOUT, process=process)
    except client.DaemonUnavailable:
        if process.poll() is not None:
            raise AgentflowError(
                f"the daemon exited at start (status {process.returncode}): " + _last_line(log_file)
            ) from None
        process.terminate()
        raise AgentflowError(
            f"the daemon did not answer within {START_TIMEOUT:g}s; see {log_file}"
        ) from None


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return f"see {path}"
    return lines[-1] if lines else f"see {path}"


@command.command()
@PROJECT
@JSON
def stop(project: Path | None, as_json: bool) -> None:
    """Stop the project's background daemon (ask over the socket, then SIGTERM, then SIGKILL)."""
    from agentflowd.ipc import client

    root = project_root(project)
    info = _ping(root)
    if info is None:
        _report(as_json, {"stopped": False, "running": False}, "not running")
        return
    pid = int(info["pid"])
    if info.get("mode") != "socket":
        raise UsageError(
            f"pid {pid} is an editor's language server for {root}; it stops with the editor"
        )
    how = "asked"
    # If it went away meanwhile, or hangs, the signals below settle it.
    with contextlib.suppress(client.DaemonUnavailable):
        client.call(root, "shutdown", {}, timeout=2.0)
    if not _wait_gone(pid, STOP_TIMEOUT):
        how = "SIGTERM"
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, STOP_TIMEOUT):
            how = "SIGKILL"
            os.kill(pid, signal.SIGKILL)
            _wait_gone(pid, STOP_TIMEOUT)
    _report(as_json, {"stopped": True, "pid": pid, "how": how}, f"stopped pid {pid} ({how})")


@command.command()
@PROJECT
@JSON
def status(project: Path | None, as_json: bool) -> None:
    """Whether a daemon serves the project. Exit 0 when one answers, 3 when none does."""
    from agentflowd.ipc import paths

    root = project_root(project)
    info = _ping(root)
    socket = str(paths.socket_path(root))
    if info is None:
        _report(
            as_json, {"running": False, "socket": socket}, f"not running (no daemon at {socket})"
        )
        sys.exit(EXIT_ENVIRONMENT)
    _report(as_json, {"running": True, "socket": socket, **info}, _describe(info))


def _report(as_json: bool, data: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(data) if as_json else text)
