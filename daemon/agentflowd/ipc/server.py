"""The daemon side of the socket: one asyncio Unix server per project.

Ownership: the daemon that holds an exclusive `flock` on `<socket>.lock` owns the socket. The
kernel drops the lock when a process dies however it dies, so a socket file whose lock can be
taken was left by a crashed daemon: it is replaced. A second daemon for the same project (a
second editor window) finds the lock held, serves its editor without a socket, and retries
periodically so it can take over when the first one exits.

Every request gets exactly one response frame. Bad input never stops the server: a malformed
frame or unknown method gets an error frame and the connection stays usable; an oversized frame
gets an error frame and the connection is closed (its body is never read).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import socket
import stat
import struct
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from agentflowd.errors import (
    AgentflowError,
    ConfigError,
    NotBuiltError,
    NotFoundError,
    UsageError,
)
from agentflowd.ipc import paths, protocol
from agentflowd.project import STATE_DIR

log = logging.getLogger("agentflowd.ipc")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
IDLE_TIMEOUT = 300.0  # seconds a connection may sit between frames
BODY_TIMEOUT = 30.0  # seconds to receive a frame's body once its header arrived


class SocketUnavailable(AgentflowError):
    """The socket cannot be created (unsafe runtime folder, path in use by something else)."""


class _Ownership:
    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.lock_path = paths.lock_path(socket_path)
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        _prepare_folder(self.socket_path.parent)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def _prepare_folder(folder: Path) -> None:
    """Create the socket's folder; a shared runtime folder must be ours and private."""
    private = folder.name != STATE_DIR
    folder.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    if private:
        info = folder.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise SocketUnavailable(
                f"{folder} is not a private folder owned by this user; refusing to put the "
                "daemon socket there"
            )


def _remove_stale(path: Path) -> None:
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise SocketUnavailable(f"{path} exists and is not a socket; remove it to run the daemon")
    log.info("replacing stale socket %s", path)
    path.unlink()


def _bind(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # the socket is created 0600: only this user may connect
    try:
        sock.bind(os.fspath(path))
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(previous)
    path.chmod(0o600)
    sock.listen(64)
    sock.setblocking(False)
    return sock


class IpcServer:
    """Serves `handlers` (method name -> async function of params) on the project's socket."""

    def __init__(
        self,
        project: Path,
        handlers: Mapping[str, Handler],
        *,
        socket_path: Path | None = None,
        max_request_bytes: int = protocol.MAX_REQUEST_BYTES,
    ) -> None:
        self.socket_path = socket_path or paths.socket_path(project)
        self.handlers = handlers
        self.max_request_bytes = max_request_bytes
        self._ownership = _Ownership(self.socket_path)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def serving(self) -> bool:
        return self._server is not None

    async def start(self) -> bool:
        """Take the socket if no live daemon holds it; False when another daemon does."""
        if self._server is not None:
            return True
        if not self._ownership.try_acquire():
            return False
        try:
            _remove_stale(self.socket_path)
            sock = _bind(self.socket_path)
            self._server = await asyncio.start_unix_server(self._on_connect, sock=sock)
        except BaseException:
            self._ownership.release()
            raise
        log.info("listening on %s", self.socket_path)
        return True

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        with contextlib.suppress(Exception):
            await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._ownership.release()

    def abandon(self) -> None:
        """Remove the socket file and drop ownership after the event loop is already gone."""
        if self._server is None:
            return
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._ownership.release()

    async def keep_trying(self, interval: float = 10.0) -> None:
        """Retry `start` until this process owns the socket (run as a background task)."""
        while self._server is None:
            await asyncio.sleep(interval)
            try:
                await self.start()
            except (OSError, SocketUnavailable) as exc:
                log.warning("cannot take the socket %s: %s", self.socket_path, exc)

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            if _peer_uid(writer) not in (None, os.getuid()):
                return
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        except asyncio.CancelledError:
            # Closing the server cancels its connections; ending normally keeps asyncio's
            # stream callback from logging the cancellation as an error.
            pass
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                header = await asyncio.wait_for(
                    reader.readexactly(protocol.HEADER.size), IDLE_TIMEOUT
                )
            except asyncio.IncompleteReadError:
                return  # the client closed the connection between frames
            (length,) = protocol.HEADER.unpack(header)
            if length > self.max_request_bytes:
                await _send(
                    writer,
                    protocol.error_message(
                        None,
                        protocol.FRAME_TOO_LARGE,
                        f"frame of {length} bytes; the limit is {self.max_request_bytes}",
                    ),
                )
                return
            body = await asyncio.wait_for(reader.readexactly(length), BODY_TIMEOUT)
            await _send(writer, await self._answer(body))

    async def _answer(self, body: bytes) -> dict[str, Any]:
        try:
            request = protocol.unpack(body)
        except Exception as exc:  # msgpack raises several unrelated types for bad input
            return protocol.error_message(None, protocol.BAD_FRAME, f"not msgpack: {exc}")
        if not isinstance(request, dict):
            return protocol.error_message(None, protocol.BAD_FRAME, "a request must be a map")
        request_id = request.get("id")
        version = request.get("v")
        if version not in protocol.SUPPORTED_VERSIONS:
            return protocol.error_message(
                request_id,
                protocol.UNSUPPORTED_VERSION,
                f"protocol version {version!r} is not supported",
                list(protocol.SUPPORTED_VERSIONS),
            )
        method = request.get("method")
        params = request.get("params", {})
        if not isinstance(method, str) or not isinstance(params, dict):
            return protocol.error_message(
                request_id, protocol.BAD_FRAME, "a request needs a string `method` and map `params`"
            )
        handler = self.handlers.get(method)
        if handler is None:
            return protocol.error_message(
                request_id,
                protocol.UNKNOWN_METHOD,
                f"unknown method {method!r}; known: {', '.join(sorted(self.handlers))}",
            )
        try:
            result = await handler(params)
        except Exception as exc:
            code, message = error_code(exc)
            if code == protocol.INTERNAL:
                log.exception("internal error in %s", method)
            return protocol.error_message(request_id, code, message)
        return {"v": protocol.VERSION, "id": request_id, "result": result}


def error_code(exc: BaseException) -> tuple[str, str]:
    """The protocol error code and message for an exception raised by a handler."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, UsageError):
        return protocol.INVALID_PARAMS, message
    if isinstance(exc, NotFoundError):
        return protocol.NOT_FOUND, message
    if isinstance(exc, NotBuiltError):
        return protocol.NOT_AVAILABLE, message
    if isinstance(exc, ConfigError):
        return protocol.CONFIG, message
    if isinstance(exc, AgentflowError):
        return protocol.FAILED, message
    if isinstance(exc, OSError):
        return protocol.IO, message
    return protocol.INTERNAL, f"internal error: {type(exc).__name__}: {message}"


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    try:
        frame = protocol.pack(message)
    except (TypeError, ValueError, OverflowError) as exc:
        frame = protocol.pack(
            protocol.error_message(
                message.get("id"), protocol.INTERNAL, f"result is not serialisable: {exc}"
            )
        )
    writer.write(frame)
    await writer.drain()


def _peer_uid(writer: asyncio.StreamWriter) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    sock = writer.get_extra_info("socket")
    if option is None or sock is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]
