"""The local socket against a real background daemon (`serve --no-lsp`) in a scratch project."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest

from agentflowd.ipc import client, paths, protocol
from tests.lsp.helpers import server_env

pytestmark = pytest.mark.e2e

SKILL = """---
name: pdf-forms
description: Fill in PDF forms and extract the values of PDF form fields. Use when the user asks about PDF forms.
effort: hihg
---
Use scripts/fill.py.
"""


def make_project(root: Path) -> Path:
    project = root / "proj"
    skill = project / ".claude" / "skills" / "pdf-forms"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text(SKILL)
    (project / ".git").mkdir()
    return project


def wait_ping(project: Path, timeout: float = 15.0) -> dict[str, Any]:
    return client.wait_for_daemon(project, timeout)


def start_daemon(project: Path, home: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--project", str(project)],
        env=server_env(home),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_daemon(project: Path, process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        client.call(project, "shutdown", {})
    _, err = process.communicate(timeout=15)
    assert process.returncode == 0, err.decode()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("ipc")
    project = make_project(root)
    home = root / "home"
    home.mkdir()
    process = start_daemon(project, home)
    wait_ping(project)
    yield project
    stop_daemon(project, process)
    assert not paths.socket_path(project).exists()
    assert not paths.pid_path(project).exists()


def raw(project: Path, frames: list[bytes], *, responses: int) -> list[Any]:
    """Send raw bytes, read `responses` frames back (stops early if the server closes)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(os.fspath(paths.socket_path(project)))
    try:
        for frame in frames:
            sock.sendall(frame)
        out = []
        buffer = b""
        while len(out) < responses:
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= 4:
                (length,) = protocol.HEADER.unpack(buffer[:4])
                if len(buffer) < 4 + length:
                    break
                out.append(msgpack.unpackb(buffer[4 : 4 + length], raw=False))
                buffer = buffer[4 + length :]
        return out
    finally:
        sock.close()


def frame(obj: Any) -> bytes:
    body = msgpack.packb(obj)
    return protocol.HEADER.pack(len(body)) + body


def test_socket_is_private_and_ping_says_who_answers(daemon: Path) -> None:
    path = paths.socket_path(daemon)
    assert path == daemon / ".agentflow" / "daemon.sock"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    info = client.call(daemon, "ping", {})
    assert info["protocol"] == protocol.VERSION and info["mode"] == "socket"
    assert info["project"] == str(daemon.resolve())
    assert int(paths.pid_path(daemon).read_text()) == info["pid"]


def test_bad_input_gets_error_frames_and_the_daemon_keeps_serving(daemon: Path) -> None:
    ok = {"v": 1, "id": 9, "method": "ping", "params": {}}
    answers = raw(
        daemon,
        [
            protocol.HEADER.pack(3) + b"\xc1\xc1\xc1",  # 0xc1 is never valid msgpack
            frame([1, 2, 3]),
            frame({"v": 1, "id": 1, "params": {}}),
            frame({"v": 99, "id": 2, "method": "ping", "params": {}}),
            frame({"v": 1, "id": 3, "method": "no.such", "params": {}}),
            frame({"v": 1, "id": 4, "method": "validate", "params": {"path": 5}}),
            frame(ok),  # the same connection still works after all of that
        ],
        responses=7,
    )
    codes = [a.get("error", {}).get("code") for a in answers]
    assert codes == [
        protocol.BAD_FRAME,
        protocol.BAD_FRAME,
        protocol.BAD_FRAME,
        protocol.UNSUPPORTED_VERSION,
        protocol.UNKNOWN_METHOD,
        protocol.INVALID_PARAMS,
        None,
    ]
    assert answers[3]["error"]["data"] == [1] and answers[4]["id"] == 3
    assert answers[6]["id"] == 9 and answers[6]["result"]["mode"] == "socket"


def test_oversized_frame_is_refused_without_reading_it(daemon: Path) -> None:
    header = protocol.HEADER.pack(protocol.MAX_REQUEST_BYTES + 1)
    [answer] = raw(daemon, [header], responses=1)
    assert answer["error"]["code"] == protocol.FRAME_TOO_LARGE
    assert client.call(daemon, "ping", {})["mode"] == "socket"


def test_client_raises_typed_errors(daemon: Path) -> None:
    with pytest.raises(client.DaemonProtocolError) as unknown:
        client.call(daemon, "nope", {})
    assert unknown.value.code == protocol.UNKNOWN_METHOD
    with pytest.raises(client.DaemonUsageError, match="path"):
        client.call(daemon, "validate", {})


def test_skills_list_and_validate(daemon: Path) -> None:
    listed = client.call(daemon, "skills.list", {})
    assert [s["name"] for s in listed["skills"]] == ["pdf-forms"]
    report = client.call(daemon, "validate", {"path": ".claude/skills/pdf-forms/SKILL.md"})
    assert [d["code"] for d in report["diagnostics"]] == ["AF022"]
    edited = client.call(
        daemon,
        "validate",
        {"path": ".claude/skills/pdf-forms/SKILL.md", "text": SKILL.replace("hihg", "high")},
    )
    assert edited["diagnostics"] == []


def test_skills_change_on_disk_without_restart(daemon: Path) -> None:
    added = daemon / ".claude" / "skills" / "csv-tools"
    added.mkdir()
    (added / "SKILL.md").write_text("---\nname: csv-tools\ndescription: Clean CSV files.\n---\n")
    deadline = time.monotonic() + 10
    names: list[str] = []
    while time.monotonic() < deadline:
        names = [s["name"] for s in client.call(daemon, "skills.list", {})["skills"]]
        if "csv-tools" in names:
            break
        time.sleep(0.05)
    assert names == ["csv-tools", "pdf-forms"]


def test_match_and_memory_use_the_real_engines(daemon: Path) -> None:
    result = client.call(daemon, "skills.match", {"prompt": "fill in this PDF form"}, timeout=60)
    assert result["skill"] == "pdf-forms"
    assert result["candidates"][0]["skill"] == "pdf-forms"
    many = client.call(daemon, "skills.match", {"prompts": ["hello there", "PDF form fields"]})
    assert [r["prompt"] for r in many["results"]] == ["hello there", "PDF form fields"]
    stored = client.call(
        daemon, "memory.store", {"key": "deploy", "value": "we deploy blue-green", "tags": ["ops"]}
    )
    assert stored["entry"]["key"] == "deploy"
    found = client.call(daemon, "memory.search", {"query": "how do we deploy", "k": 3}, timeout=60)
    assert found["hits"][0]["entry"]["key"] == "deploy"
    with pytest.raises(client.DaemonUsageError, match="k"):
        client.call(daemon, "memory.search", {"query": "x", "k": 0})


def test_second_daemon_for_the_project_is_refused(daemon: Path, tmp_path: Path) -> None:
    process = start_daemon(daemon, tmp_path)
    _, err = process.communicate(timeout=15)
    assert process.returncode == 2
    assert b"already running" in err
    assert client.call(daemon, "ping", {})["mode"] == "socket"


def test_stale_socket_from_a_crashed_daemon_is_replaced(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    path = paths.socket_path(project)
    path.parent.mkdir(parents=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(os.fspath(path))
    dead.close()  # the file stays, nobody listens: what a SIGKILLed daemon leaves
    with pytest.raises(client.DaemonUnavailable):
        client.call(project, "ping", {})
    process = start_daemon(project, home)
    try:
        assert wait_ping(project)["pid"] == process.pid
    finally:
        stop_daemon(project, process)


def test_killed_daemon_is_replaced_by_the_next(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    first = start_daemon(project, home)
    wait_ping(project)
    first.kill()
    first.communicate(timeout=10)
    assert paths.socket_path(project).exists()  # left behind
    second = start_daemon(project, home)
    try:
        assert wait_ping(project)["pid"] == second.pid
    finally:
        stop_daemon(project, second)


def test_long_project_path_falls_back_to_the_runtime_dir(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d" * 30] * 4)
    project = make_project(deep)
    runtime = tmp_path / "rt"
    runtime.mkdir(mode=0o700)
    env = server_env(tmp_path)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    old = os.environ.get("XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        path = paths.socket_path(project)
        assert path.parent == runtime / "agentflowd" and len(os.fsencode(path)) <= 107
        process = subprocess.Popen(
            [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--project", str(project)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert wait_ping(project)["project"] == str(project.resolve())
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        finally:
            stop_daemon(project, process)
    finally:
        if old is None:
            del os.environ["XDG_RUNTIME_DIR"]
        else:
            os.environ["XDG_RUNTIME_DIR"] = old


def test_client_without_daemon_and_with_a_mute_one(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    with pytest.raises(client.DaemonUnavailable, match="no daemon"):
        client.call(project, "ping", {})
    path = paths.socket_path(project)
    path.parent.mkdir(parents=True)
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(os.fspath(path))
    mute.listen(1)
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(mute.accept()[0]), daemon=True)
    thread.start()
    try:
        with pytest.raises(client.DaemonTimeout):
            client.call(project, "ping", {}, timeout=0.3)
    finally:
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        mute.close()


def test_first_skills_folder_created_while_running_is_watched(tmp_path: Path) -> None:
    project = tmp_path / "bare"
    (project / ".git").mkdir(parents=True)
    home = tmp_path / "home"
    home.mkdir()
    process = start_daemon(project, home)
    try:
        wait_ping(project)
        assert client.call(project, "skills.list", {})["skills"] == []
        skill = project / ".claude" / "skills" / "late"
        skill.mkdir(parents=True)
        (skill / "SKILL.md").write_text("---\nname: late\ndescription: Came later.\n---\n")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if client.call(project, "skills.list", {})["skills"]:
                break
            time.sleep(0.1)
        assert [s["name"] for s in client.call(project, "skills.list", {})["skills"]] == ["late"]
    finally:
        stop_daemon(project, process)
