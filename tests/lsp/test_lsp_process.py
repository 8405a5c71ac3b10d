"""The server process ends when its client goes away, however it goes, and leaves nothing behind."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agentflowd.ipc import client, paths
from tests.lsp.helpers import SERVER_COMMAND, make_project, server_env

pytestmark = pytest.mark.e2e


def message(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def initialize(project: Path) -> bytes:
    return message(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": project.as_uri(), "capabilities": {}},
        }
    ) + message({"jsonrpc": "2.0", "method": "initialized", "params": {}})


def spawn(home: Path, *args: str) -> subprocess.Popen[bytes]:
    """The server with piped stdio and `home` (created here) as its HOME."""
    home.mkdir()
    return subprocess.Popen(
        [*SERVER_COMMAND, *args],
        env=server_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def start(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path]:
    project = make_project(tmp_path)
    process = spawn(tmp_path / "home")
    assert process.stdin is not None
    process.stdin.write(initialize(project))
    process.stdin.flush()
    deadline = time.monotonic() + 15
    while not paths.socket_path(project).exists():  # initialized: the socket is up
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    return process, project


def finish(process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    """Wait for the server to exit by itself (never killed here); its status and stdout."""
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    try:
        process.wait(timeout=15)
        return process.returncode, process.stdout.read()
    finally:
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def test_closing_stdin_ends_the_server(tmp_path: Path) -> None:
    process, project = start(tmp_path)
    assert client.call(project, "ping", {})["pid"] == process.pid
    assert process.stdin is not None
    process.stdin.close()
    code, _ = finish(process)
    assert code == 0
    assert not paths.socket_path(project).exists()


def test_exit_without_shutdown_is_status_1_and_with_shutdown_0(tmp_path: Path) -> None:
    process, _ = start(tmp_path / "a")
    assert process.stdin is not None
    process.stdin.write(message({"jsonrpc": "2.0", "method": "exit", "params": None}))
    process.stdin.flush()
    assert finish(process)[0] == 1

    process, _ = start(tmp_path / "b")
    assert process.stdin is not None
    process.stdin.write(message({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
    process.stdin.write(message({"jsonrpc": "2.0", "method": "exit", "params": None}))
    process.stdin.flush()
    code, out = finish(process)
    assert code == 0
    assert b'"id": 2' in out  # shutdown was answered before the exit


def test_sigterm_ends_the_server_while_it_waits_for_input(tmp_path: Path) -> None:
    process, project = start(tmp_path)
    os.kill(process.pid, signal.SIGTERM)
    code, _ = finish(process)
    assert code == 0
    assert not paths.socket_path(project).exists()


def test_no_socket_mode_and_second_server_without_socket(tmp_path: Path) -> None:
    first, project = start(tmp_path)
    second = spawn(tmp_path / "home2")
    assert second.stdin is not None and first.stdin is not None
    second.stdin.write(initialize(project))
    second.stdin.flush()
    time.sleep(0.5)
    # The first server keeps the socket; the second serves its editor without one.
    assert client.call(project, "ping", {})["pid"] == first.pid
    first.stdin.close()
    assert finish(first)[0] == 0
    second.stdin.close()
    assert finish(second)[0] == 0


def test_server_without_socket(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    process = spawn(tmp_path / "home", "--no-socket")
    out, _ = process.communicate(initialize(project), timeout=15)
    assert process.returncode == 0 and b'"capabilities"' in out
    assert not paths.socket_path(project).exists()


def test_serve_rejects_contradictory_flags(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "agentflowd", "serve", "--no-lsp", "--no-socket"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert result.returncode == 2 and "--no-lsp" in result.stderr


def read_until(process: subprocess.Popen[bytes], method: str, timeout: float = 15) -> dict:
    """Read the server's messages until one with `method` arrives."""
    import selectors

    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    buffer = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not selector.select(timeout=0.1):
            continue
        buffer += os.read(process.stdout.fileno(), 65536)
        while b"\r\n\r\n" in buffer:
            header, rest = buffer.split(b"\r\n\r\n", 1)
            length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            if len(rest) < length:
                break
            payload, buffer = json.loads(rest[:length]), rest[length:]
            if payload.get("method") == method:
                return payload
    raise AssertionError(f"no {method} within {timeout}s")


def test_initialization_options_force_push_for_a_pull_client(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    process = spawn(tmp_path / "home", "--no-socket")
    assert process.stdin is not None
    uri = (project / ".claude" / "skills" / "broken" / "SKILL.md").as_uri()
    init = {
        "processId": None,
        "rootUri": project.as_uri(),
        "capabilities": {"textDocument": {"diagnostic": {}}},  # a client that could pull
        "initializationOptions": {"diagnostics": "push", "diagnosticsDelayMs": 0},
    }
    doc = {"uri": uri, "languageId": "markdown", "version": 1, "text": "---\nname: x\n---\n"}
    for payload in (
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": doc}},
    ):
        process.stdin.write(message(payload))
    process.stdin.flush()
    published = read_until(process, "textDocument/publishDiagnostics")
    assert published["params"]["uri"] == uri
    assert {d["code"] for d in published["params"]["diagnostics"]} >= {"AF013"}
    process.stdin.close()
    assert finish(process)[0] == 0


def test_claude_code_gets_the_matcher_loaded_up_front(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    process = spawn(tmp_path / "home")
    assert process.stdin is not None
    init = {
        "processId": None,
        "rootUri": project.as_uri(),
        "capabilities": {},
        "clientInfo": {"name": "claude-code", "version": "2.1.0"},
    }
    process.stdin.write(
        message({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init})
    )
    process.stdin.write(message({"jsonrpc": "2.0", "method": "initialized", "params": {}}))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    ready = False
    while not ready and time.monotonic() < deadline:
        with contextlib.suppress(client.DaemonUnavailable):
            ready = client.call(project, "ping", {})["matcher_ready"]
        time.sleep(0.1)
    assert ready
    started = time.monotonic()
    result = client.call(project, "skills.match", {"prompt": "review this code"}, timeout=30)
    assert result["candidates"] and time.monotonic() - started < 5  # no model load here
    process.stdin.close()
    assert finish(process)[0] == 0
