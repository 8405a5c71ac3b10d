"""Ask a project's running daemon over its socket: the fast path for the CLI and the hooks.

Imports only the standard library, msgpack and `agentflowd.errors` (itself standard library
only). Typical use, falling back to in-process work when no daemon answers:

    try:
        result = client.call(project, "skills.match", {"prompt": text})
    except client.DaemonUnavailable:
        result = match_in_process(text)
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from pathlib import Path
from typing import Any

from agentflowd.errors import AgentflowError, ConfigError, NotBuiltError, NotFoundError, UsageError
from agentflowd.ipc import paths, protocol

DEFAULT_TIMEOUT = 5.0
CONNECT_TIMEOUT = 0.5
_ids = itertools.count(1)


class DaemonUnavailable(AgentflowError):
    """No daemon answers for this project (none running, stale socket, refused, no answer in time).
    Callers fall back to doing the work in-process."""


class DaemonTimeout(DaemonUnavailable):
    """A daemon accepted the request but did not answer within the timeout."""


class DaemonError(AgentflowError):
    """The daemon answered with an error frame."""

    def __init__(self, code: str, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


class DaemonProtocolError(DaemonError):
    """The request itself was refused: malformed or oversized frame, unknown method or version."""


class DaemonUsageError(DaemonError, UsageError):
    pass


class DaemonNotFound(DaemonError, NotFoundError):
    pass


class DaemonNotAvailable(DaemonError, NotBuiltError):
    """The daemon runs, but this feature is not built or not installed in it."""


class DaemonConfigError(DaemonError, ConfigError):
    pass


_ERRORS: dict[str, type[DaemonError]] = {
    protocol.BAD_FRAME: DaemonProtocolError,
    protocol.FRAME_TOO_LARGE: DaemonProtocolError,
    protocol.UNSUPPORTED_VERSION: DaemonProtocolError,
    protocol.UNKNOWN_METHOD: DaemonProtocolError,
    protocol.INVALID_PARAMS: DaemonUsageError,
    protocol.NOT_FOUND: DaemonNotFound,
    protocol.NOT_AVAILABLE: DaemonNotAvailable,
    protocol.CONFIG: DaemonConfigError,
}


def call(
    project: Path,
    method: str,
    params: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    """Send one request to the daemon of `project` and return its result.

    Raises DaemonUnavailable (or DaemonTimeout) when no daemon answers, and a DaemonError
    subclass when the daemon answers with an error.
    """
    return call_socket(paths.socket_path(project), method, params, timeout)


def call_or_none(
    project: Path, method: str, params: dict[str, Any] | None = None, timeout: float = 1.0
) -> Any | None:
    """The daemon's result, or None when no daemon answers or it cannot serve this request.

    For callers that can do the same work in-process (the CLI's fast path, the hooks).
    """
    try:
        return call(project, method, params, timeout)
    except (DaemonUnavailable, DaemonError):
        return None


def wait_for_daemon(project: Path, timeout: float, *, process: Any = None) -> Any:
    """Ping the project's daemon until it answers; returns the ping result.

    Raises DaemonUnavailable when `timeout` seconds pass, or as soon as `process` (the daemon
    being started, anything with `poll()`) has exited.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call(project, "ping", {}, timeout=min(DEFAULT_TIMEOUT, timeout))
        except DaemonUnavailable:
            if process is not None and process.poll() is not None:
                raise DaemonUnavailable(
                    f"the daemon exited (status {process.returncode})"
                ) from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def call_socket(
    path: Path,
    method: str,
    params: dict[str, Any] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Any:
    request_id = next(_ids)
    frame = protocol.pack(
        {"v": protocol.VERSION, "id": request_id, "method": method, "params": params or {}}
    )
    deadline = time.monotonic() + timeout
    sock = _connect(path, min(CONNECT_TIMEOUT, timeout))
    try:
        try:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(frame)
            response = _read_frame(sock, deadline)
        except TimeoutError:
            raise DaemonTimeout(
                f"the daemon at {path} did not answer within {timeout:g}s"
            ) from None
        except OSError as exc:
            raise DaemonUnavailable(f"lost the daemon at {path}: {exc.strerror or exc}") from None
    finally:
        sock.close()
    if not isinstance(response, dict):
        raise DaemonProtocolError(
            protocol.BAD_FRAME, "the daemon sent a response that is not a map"
        )
    error = response.get("error")
    if error is not None:
        code = str(error.get("code", protocol.INTERNAL)) if isinstance(error, dict) else "internal"
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        data = error.get("data") if isinstance(error, dict) else None
        raise _ERRORS.get(code, DaemonError)(code, message, data)
    return response.get("result")


def _connect(path: Path, timeout: float) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
    except FileNotFoundError:
        sock.close()
        raise DaemonUnavailable(f"no daemon is running (no socket at {path})") from None
    except TimeoutError:
        sock.close()
        raise DaemonTimeout(f"the daemon at {path} did not accept within {timeout:g}s") from None
    except OSError as exc:
        sock.close()
        # ECONNREFUSED: a socket file left by a daemon that is gone.
        raise DaemonUnavailable(f"no daemon answers at {path} ({exc.strerror or exc})") from None
    return sock


def _read_frame(sock: socket.socket, deadline: float) -> Any:
    header = _read_exactly(sock, protocol.HEADER.size, deadline)
    (length,) = protocol.HEADER.unpack(header)
    if length > protocol.MAX_RESPONSE_BYTES:
        raise DaemonProtocolError(
            protocol.FRAME_TOO_LARGE,
            f"the daemon sent a {length}-byte frame; the limit is {protocol.MAX_RESPONSE_BYTES}",
        )
    body = _read_exactly(sock, length, deadline)
    try:
        return protocol.unpack(body)
    except Exception as exc:  # msgpack raises several unrelated types for bad input
        raise DaemonProtocolError(protocol.BAD_FRAME, f"unreadable response: {exc}") from None


def _read_exactly(sock: socket.socket, size: int, deadline: float) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            raise DaemonUnavailable("the daemon closed the connection before answering")
        chunks += chunk
    return bytes(chunks)
