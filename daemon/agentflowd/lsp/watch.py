"""Watch the folders skills, commands and sub-agents live in, and report changes in batches.

Only those folders are watched, never the whole project: `node_modules` or `.claude/worktrees`
would cost an inotify watch per directory. Folders that appear later (a first `.claude/skills`)
are noticed by a cheap poll of the root set, which restarts the watch and reports a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

log = logging.getLogger("agentflowd.watch")

OnChange = Callable[[set[Path]], Awaitable[None]]
ROOTS_POLL = 2.0  # seconds between checks for watched folders appearing or disappearing


async def watch(
    roots: Callable[[], set[Path]],
    on_change: OnChange,
    stop: asyncio.Event,
    *,
    debounce_ms: int = 300,
    roots_poll: float = ROOTS_POLL,
) -> None:
    """Call `on_change(paths)` after each batch of changes until `stop` is set."""
    from watchfiles import awatch

    current = roots()
    while not stop.is_set():
        restart = asyncio.Event()
        watcher_stop = asyncio.Event()
        supervisor = asyncio.create_task(
            _supervise(roots, current, stop, restart, watcher_stop, roots_poll)
        )
        try:
            if current:
                async for changes in awatch(
                    *current, stop_event=watcher_stop, debounce=debounce_ms, step=50
                ):
                    await _report(on_change, {Path(path) for _, path in changes})
            else:
                await watcher_stop.wait()
        except (OSError, RuntimeError) as exc:
            log.warning("watching %s failed: %s; retrying", sorted(map(str, current)), exc)
            await _sleep_or_stop(stop, roots_poll)
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        if restart.is_set():
            previous, current = current, roots()
            added = current - previous
            await _report(on_change, added or previous - current)
        else:
            current = roots()


async def _report(on_change: OnChange, paths: set[Path]) -> None:
    try:
        await on_change(paths)
    except Exception:
        log.exception("handling file changes failed")


async def _supervise(
    roots: Callable[[], set[Path]],
    current: set[Path],
    stop: asyncio.Event,
    restart: asyncio.Event,
    watcher_stop: asyncio.Event,
    interval: float,
) -> None:
    while True:
        if await _sleep_or_stop(stop, interval):
            break
        if roots() != current:
            restart.set()
            break
    watcher_stop.set()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`; True when `stop` was set meanwhile."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
