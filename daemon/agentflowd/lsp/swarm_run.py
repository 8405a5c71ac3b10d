"""A swarm run the daemon can stop from another thread, with every event forwarded as it happens.

`agentflowd.swarm.runner.run_plan` owns its event loop and offers no way to stop a run except
signals, which only the main thread may handle. This is the same sequence (run log row, event
recorder, outputs, finished row) built from the runner's and memory's public pieces, plus a
thread-safe stop that ends the run through `Swarm.stop`, so a cancelled run is recorded as
cancelled with its outputs written, like an interrupted `agentflowd swarm run`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


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


def run_stoppable(
    plan: Any, *, project: Path, stop: StopSignal, on_event: Callable[[Any], None]
) -> Any:
    """Run `plan` to the end or until `stop`; returns the runner's RunRecord."""
    from agentflowd.memory.db import open_db
    from agentflowd.memory.paths import resolve_db_path
    from agentflowd.memory.runs import EventRecorder, finish_run, start_run
    from agentflowd.swarm.engine import Swarm, new_run_id
    from agentflowd.swarm.events import EventBus
    from agentflowd.swarm.outputs import write_outputs
    from agentflowd.swarm.runner import RunRecord, run_dir_for, summary_of

    run_id = new_run_id()
    run_dir = run_dir_for(project, run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = resolve_db_path(project=project)
    conn = open_db(path)
    try:
        start_run(
            conn, run_id, plan.skill, started_at=time.time(), run_dir=run_dir,
            summary={"pid": os.getpid()},
        )  # fmt: skip
        bus = EventBus()
        recorder = EventRecorder(path, run_id)
        bus.add_sink(recorder)
        bus.add_sink(on_event)

        async def main() -> Any:
            swarm = Swarm(plan, run_id=run_id, bus=bus)
            stop.bind(asyncio.get_running_loop(), swarm.stop)
            return await swarm.run()

        try:
            result = asyncio.run(main())
        finally:
            recorder.close()
        outputs = tuple(write_outputs(result, plan.outputs, run_dir))
        finish_run(
            conn,
            run_id,
            status=result.status,
            finished_at=result.finished_at,
            summary={
                **summary_of(result, outputs, run_dir),
                "events": {"recorded": recorder.written},
            },
        )
    finally:
        conn.close()
    return RunRecord(result, run_dir, outputs, recorder.written, recorder.error)
