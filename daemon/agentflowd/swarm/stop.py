"""A stop request for a swarm run that any thread may make.

Signal handlers only run on the main thread; a daemon runs swarms in worker threads and stops
them from its event loop, so the request crosses threads through the run's own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class StopSignal:
    """Set from any thread; stops the run it is bound to (immediately if set before binding)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reason: str | None = None
        self._target: tuple[asyncio.AbstractEventLoop, Callable[[str], None]] | None = None

    @property
    def requested(self) -> bool:
        return self._reason is not None

    def request(self, reason: str) -> None:
        with self._lock:
            if self._reason is not None:
                return
            self._reason = reason
            target = self._target
        if target is not None:
            loop, stop = target
            loop.call_soon_threadsafe(stop, reason)

    def bind(self, loop: asyncio.AbstractEventLoop, stop: Callable[[str], None]) -> None:
        with self._lock:
            self._target = (loop, stop)
            reason = self._reason
        if reason is not None:
            loop.call_soon_threadsafe(stop, reason)
