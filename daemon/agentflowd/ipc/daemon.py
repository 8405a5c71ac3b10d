"""The background daemon (`agentflowd serve --no-lsp`): the socket and the watcher, no editor.

It never imports pygls. It stops on the socket's `shutdown` method, SIGTERM or SIGINT, removing
its socket and pid file; a crash leaves both behind, and the next daemon replaces them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NoReturn

from agentflowd.errors import UsageError
from agentflowd.ipc import paths
from agentflowd.ipc.methods import socket_methods
from agentflowd.ipc.server import IpcServer
from agentflowd.lsp.services import Services
from agentflowd.lsp.state import ProjectState
from agentflowd.lsp.watch import watch

log = logging.getLogger("agentflowd.daemon")
WORK_THREADS = 2


def _log_failure(future: asyncio.Future[None]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.warning("warming up the matcher failed: %s", future.exception())


def run(project: Path) -> NoReturn:
    """Serve until stopped, then end the process (see below)."""
    code = asyncio.run(_main(project))
    # A warm-up or request may still run in a work thread (loading the model takes a second or
    # two); the socket and pid file are gone and the database is closed, so exit now rather
    # than let the interpreter wait for those threads.
    logging.shutdown()
    os._exit(code)


async def _main(project: Path) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    state = ProjectState(project)
    services = Services(state, mode="socket")
    executor = ThreadPoolExecutor(WORK_THREADS, thread_name_prefix="agentflowd-work")
    server = IpcServer(state.project, socket_methods(services, executor, stop=stop.set))
    if not await server.start():
        raise UsageError(f"a daemon is already running for {state.project}")
    pid_file = paths.pid_path(state.project)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.write_text(f"{os.getpid()}\n", encoding="utf-8")

    async def refresh(_: set[Path]) -> None:
        await loop.run_in_executor(executor, state.refresh)
        warm = loop.run_in_executor(executor, services.warm_matcher)
        warm.add_done_callback(_log_failure)

    watcher = asyncio.create_task(watch(state.watch_roots, refresh, stop))
    # Hooks want answers in milliseconds: load the catalog and the matcher before they ask.
    loop.run_in_executor(executor, services.warm_matcher).add_done_callback(_log_failure)
    log.info("daemon for %s on %s (pid %d)", state.project, server.socket_path, os.getpid())
    try:
        await stop.wait()
    finally:
        await server.close()
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        await watcher
        executor.shutdown(wait=False, cancel_futures=True)
        services.close()
    return 0
