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

from agentflowd.errors import UsageError
from agentflowd.ipc import paths
from agentflowd.ipc.methods import socket_methods
from agentflowd.ipc.server import IpcServer
from agentflowd.lsp.services import Services
from agentflowd.lsp.state import ProjectState
from agentflowd.lsp.watch import watch

log = logging.getLogger("agentflowd.daemon")
WORK_THREADS = 2


def run(project: Path) -> int:
    return asyncio.run(_main(project))


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

    watcher = asyncio.create_task(watch(state.watch_roots, refresh, stop))
    loop.run_in_executor(executor, state.catalog)  # warm up before the first request
    log.info("daemon for %s on %s (pid %d)", state.project, server.socket_path, os.getpid())
    try:
        await stop.wait()
    finally:
        await server.close()
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        await watcher
        executor.shutdown(wait=True, cancel_futures=True)
        services.close()
    return 0
