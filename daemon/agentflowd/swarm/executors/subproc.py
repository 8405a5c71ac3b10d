"""Running one child process for an agent, and never leaving anything behind.

Why not `asyncio.create_subprocess_exec`: its `wait()` only returns once the child's pipes are
closed too, so a background grandchild that inherited stdout would hang the agent forever. Here
the child's exit is watched on a pidfd (a thread on systems without one), its pipes are read
with non-blocking readers, and when it exits, or the attempt is cancelled or times out, its
whole process group is killed: the child runs in a new session, so the group is exactly the
child and whatever it started. A grandchild that calls setsid() itself leaves the group; those
are the only processes this cannot reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

DEFAULT_KILL_GRACE = 2.0  # seconds between SIGTERM and SIGKILL on cancel
DRAIN_AFTER_EXIT = 2.0  # seconds to finish reading pipes once the group is gone
GROUP_GONE_WAIT = 2.0  # seconds to wait for SIGKILLed group members to disappear
STDERR_TAIL = 64 * 1024


@dataclass(frozen=True)
class ProcessResult:
    pid: int
    returncode: int
    stdout: bytes
    stderr: bytes  # the last STDERR_TAIL bytes
    overflow: bool  # stdout went over the limit and the process was killed for it


class _Sink:
    """Collects one pipe without blocking: all of it up to `limit`, or only the tail."""

    def __init__(self, limit: int | None, tail: bool) -> None:
        self.limit = limit
        self.tail = tail
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def add(self, data: bytes) -> None:
        self.chunks.append(data)
        self.size += len(data)
        if self.limit is not None and self.size > self.limit:
            if self.tail:
                joined = b"".join(self.chunks)[-self.limit :]
                self.chunks = [joined]
                self.size = len(joined)
            else:
                self.overflow = True

    def value(self) -> bytes:
        data = b"".join(self.chunks)
        return data[: self.limit] if self.limit is not None and not self.tail else data


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to a process group; False when the group is already gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


class _Child:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        proc: subprocess.Popen[bytes],
        stdin: bytes,
        output_limit: int | None,
        on_overflow: Callable[[], None],
    ) -> None:
        self.loop = loop
        self.proc = proc
        self.pid = proc.pid
        self.exited: asyncio.Future[int] = loop.create_future()
        self.out = _Sink(output_limit, tail=False)
        self.err = _Sink(STDERR_TAIL, tail=True)
        self.drained: dict[int, asyncio.Future[None]] = {}
        self._on_overflow = on_overflow
        self._stdin = memoryview(stdin)
        self._pidfd: int | None = None
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._readers = {proc.stdout.fileno(): self.out, proc.stderr.fileno(): self.err}
        self._reading = set(self._readers)
        for fd in self._readers:
            os.set_blocking(fd, False)
            self.drained[fd] = loop.create_future()
            loop.add_reader(fd, self._read, fd)
        self._in_fd = proc.stdin.fileno()
        os.set_blocking(self._in_fd, False)
        if stdin:
            loop.add_writer(self._in_fd, self._write)
        else:
            self._close_stdin()
        self._watch_exit()

    # -- exit ------------------------------------------------------------------------------------

    def _watch_exit(self) -> None:
        try:
            self._pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):
            self._pidfd = None
        if self._pidfd is not None:
            self.loop.add_reader(self._pidfd, self._on_exit)
            return
        thread = threading.Thread(
            target=self._wait_thread, name=f"agent-pid-{self.pid}", daemon=True
        )
        thread.start()

    def _wait_thread(self) -> None:
        # WNOWAIT leaves the child a zombie, so its pid (and group id) cannot be reused before the
        # group is killed and the child reaped on the loop.
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOWAIT)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting any more
            self.loop.call_soon_threadsafe(self._on_exit)

    def _on_exit(self) -> None:
        if self.exited.done():
            return
        # The child is a zombie now, so its group id still names only its own processes: whatever
        # it left running dies with it. Then reap it.
        signal_group(self.pid, signal.SIGKILL)
        code = self.proc.poll()
        if code is None:
            return  # spurious wake-up
        if self._pidfd is not None:
            self.loop.remove_reader(self._pidfd)
            os.close(self._pidfd)
            self._pidfd = None
        self.exited.set_result(code)

    # -- pipes -----------------------------------------------------------------------------------

    def _read(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_reader(fd)
            return
        sink = self._readers[fd]
        sink.add(data)
        if sink.overflow:
            self._close_reader(fd)
            self._on_overflow()

    def _close_reader(self, fd: int) -> None:
        # Only once: after the pipe is closed its fd number may belong to someone else.
        if fd in self._reading:
            self._reading.discard(fd)
            self.loop.remove_reader(fd)
            fut = self.drained[fd]
            if not fut.done():
                fut.set_result(None)

    def _write(self) -> None:
        try:
            sent = os.write(self._in_fd, self._stdin)
        except BlockingIOError:
            return
        except OSError:  # the child closed its stdin (or died): it does not want the rest
            self._close_stdin()
            return
        self._stdin = self._stdin[sent:]
        if not self._stdin:
            self._close_stdin()

    def _close_stdin(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.loop.remove_writer(self._in_fd)
            with contextlib.suppress(OSError):
                self.proc.stdin.close()

    def close(self) -> None:
        """Release every fd and loop callback (idempotent)."""
        self._close_stdin()
        for fd in list(self._reading):
            self._close_reader(fd)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()


async def run_process(
    argv: Sequence[str],
    *,
    stdin: bytes = b"",
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    output_limit: int | None = None,
    kill_grace: float = DEFAULT_KILL_GRACE,
    on_spawn: Callable[[int], None] | None = None,
) -> ProcessResult:
    """Run `argv` (no shell) with `stdin`, in its own session; kill its group on exit or cancel."""
    loop = asyncio.get_running_loop()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        start_new_session=True,
        close_fds=True,
    )
    if on_spawn is not None:
        on_spawn(proc.pid)
    overflow = False

    def too_much() -> None:
        nonlocal overflow
        overflow = True
        signal_group(proc.pid, signal.SIGKILL)

    child = _Child(loop, proc, stdin, output_limit, too_much)
    try:
        code = await asyncio.shield(child.exited)
        # The group was killed at exit, so the pipes close unless a setsid() escapee holds them.
        pending = [f for f in child.drained.values() if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=DRAIN_AFTER_EXIT)
        await group_gone(proc.pid)
    except BaseException:
        await _stop(child, kill_grace)
        raise
    finally:
        child.close()
    return ProcessResult(proc.pid, code, child.out.value(), child.err.value(), overflow)


async def _stop(child: _Child, grace: float) -> None:
    """SIGTERM the group, give it `grace` seconds, then SIGKILL; wait until the child is reaped."""
    if not child.exited.done():
        signal_group(child.pid, signal.SIGTERM)
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(child.exited), grace)
    signal_group(child.pid, signal.SIGKILL)
    with contextlib.suppress(asyncio.CancelledError):
        if not child.exited.done():
            # SIGKILL cannot be ignored; the exit callback reaps the child even if we are cancelled
            # again.
            await asyncio.shield(child.exited)
        await group_gone(child.pid)


def _only_zombies(pgid: int) -> bool:
    """Whether every process still in group `pgid` has exited (Linux /proc; False elsewhere)."""
    try:
        entries = [p.name for p in Path("/proc").iterdir()]
    except OSError:
        return False
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After the command name: state, ppid, pgrp.
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return False
    return Path("/proc/self/stat").exists()


async def group_gone(pgid: int, timeout: float = GROUP_GONE_WAIT) -> bool:
    """Wait until no process of group `pgid` exists (killed members take a moment to die), so
    that when an agent's run returns nothing it started is still running. False on timeout."""
    deadline = asyncio.get_running_loop().time() + timeout
    delay = 0.001
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        if _only_zombies(pgid):
            return True  # dead; they stay listed until their new parent (init) reaps them
        if asyncio.get_running_loop().time() >= deadline:
            return False
        signal_group(pgid, signal.SIGKILL)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
