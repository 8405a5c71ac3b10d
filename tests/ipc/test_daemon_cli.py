"""`agentflowd daemon start|status|stop` as a user runs them: no process is left behind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentflowd.ipc import paths
from tests.lsp.helpers import alive, server_env

pytestmark = pytest.mark.e2e


def run(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentflowd", "daemon", *args],
        cwd=cwd,
        env=server_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_status_stop_leaves_nothing_running(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / ".claude" / "skills" / "a").mkdir(parents=True)
    (project / ".claude" / "skills" / "a" / "SKILL.md").write_text(
        "---\nname: a\ndescription: A.\n---\n"
    )
    (project / ".git").mkdir()
    home = tmp_path / "home"
    home.mkdir()
    work = project / ".claude"  # any folder inside the project finds the same daemon

    before = run("status", cwd=work, home=home)
    assert before.returncode == 3 and "not running" in before.stdout
    # A log left by many earlier daemons: the next start moves it aside rather than growing it.
    old_log = paths.log_path(project)
    old_log.parent.mkdir(parents=True, exist_ok=True)
    old_log.write_bytes(b"old line\n" * 200_000)

    started = run("start", "--json", cwd=work, home=home)
    assert started.returncode == 0, started.stderr
    assert old_log.with_name(old_log.name + ".1").stat().st_size == 1_800_000
    assert old_log.stat().st_size < 100_000
    info = json.loads(started.stdout)
    pid = info["pid"]
    assert info["started"] is True and info["mode"] == "socket" and alive(pid)
    assert paths.pid_path(project).read_text().strip() == str(pid)

    again = run("start", cwd=work, home=home)
    assert again.returncode == 0 and again.stdout.startswith("already running: pid " + str(pid))

    status = run("status", "--json", "--project", str(project), cwd=tmp_path, home=home)
    assert status.returncode == 0 and json.loads(status.stdout)["pid"] == pid

    stopped = run("stop", cwd=work, home=home)
    assert stopped.returncode == 0 and f"stopped pid {pid} (asked)" in stopped.stdout
    assert not alive(pid)
    assert not paths.socket_path(project).exists() and not paths.pid_path(project).exists()

    after = run("status", cwd=work, home=home)
    assert after.returncode == 3
    assert run("stop", cwd=work, home=home).stdout.strip() == "not running"
