"""Pure parts of the socket: frames, paths, error codes both ways, the swarm stop signal."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from agentflowd.errors import (
    AgentflowError,
    ConfigError,
    NotBuiltError,
    NotFoundError,
    UsageError,
)
from agentflowd.ipc import client, paths, protocol
from agentflowd.ipc.server import error_code
from agentflowd.swarm.stop import StopSignal


def test_frame_is_length_prefixed_msgpack() -> None:
    frame = protocol.pack({"v": 1, "id": 7, "method": "ping", "params": {}})
    (length,) = protocol.HEADER.unpack(frame[:4])
    assert length == len(frame) - 4
    assert protocol.unpack(frame[4:]) == {"v": 1, "id": 7, "method": "ping", "params": {}}
    with pytest.raises(ValueError):
        protocol.unpack(protocol.pack({"x": 1})[4:] + b"\x00")  # trailing bytes


def test_socket_path_prefers_the_project_and_falls_back_when_too_long(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert paths.socket_path(tmp_path) == tmp_path.resolve() / ".agentflow" / "daemon.sock"
    deep = tmp_path.joinpath(*["x" * 40] * 3)
    deep.mkdir(parents=True)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    fallback = paths.socket_path(deep)
    assert fallback.parent.name == f"agentflowd-{os.getuid()}"
    assert len(os.fsencode(fallback)) <= paths.MAX_SOCKET_PATH
    assert fallback == paths.socket_path(deep / "." / ".." / deep.name)  # same project, same path
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert paths.socket_path(deep).parent == tmp_path / "agentflowd"
    assert paths.socket_path(deep) != paths.socket_path(deep.parent)


@pytest.mark.parametrize(
    ("exc", "code", "client_type", "base"),
    [
        (UsageError("bad"), protocol.INVALID_PARAMS, client.DaemonUsageError, UsageError),
        (NotFoundError("gone"), protocol.NOT_FOUND, client.DaemonNotFound, NotFoundError),
        (NotBuiltError("later"), protocol.NOT_AVAILABLE, client.DaemonNotAvailable, NotBuiltError),
        (ConfigError("cfg"), protocol.CONFIG, client.DaemonConfigError, ConfigError),
        (AgentflowError("x"), protocol.FAILED, client.DaemonError, AgentflowError),
        (OSError("disk"), protocol.IO, client.DaemonError, AgentflowError),
        (KeyError("bug"), protocol.INTERNAL, client.DaemonError, AgentflowError),
    ],
)
def test_errors_map_to_codes_and_back_to_typed_exceptions(
    exc: Exception, code: str, client_type: type, base: type
) -> None:
    got, message = error_code(exc)
    assert got == code and message
    raised = client._ERRORS.get(got, client.DaemonError)(got, message)
    assert isinstance(raised, client_type) and isinstance(raised, base)
    assert not isinstance(raised, client.DaemonUnavailable)


def test_stop_signal_reaches_the_run_whether_set_before_or_after_binding() -> None:
    async def scenario(request_first: bool) -> list[str]:
        seen: list[str] = []
        stop = StopSignal()
        if request_first:
            stop.request("early")
        stop.bind(asyncio.get_running_loop(), seen.append)
        if not request_first:
            await asyncio.to_thread(stop.request, "from a thread")
        stop.request("twice")  # only the first request counts
        await asyncio.sleep(0.01)
        return seen

    assert asyncio.run(scenario(True)) == ["early"]
    assert asyncio.run(scenario(False)) == ["from a thread"]
