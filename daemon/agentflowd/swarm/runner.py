"""One run of a plan with everything around it: the run folder, the run log in the project
database, the event recorder, outputs, and clean cancellation on SIGINT/SIGTERM or a
`StopSignal` set from any thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agentflowd.project import state_dir
from agentflowd.swarm.engine import RunResult, Swarm, new_run_id
from agentflowd.swarm.events import Event, EventBus, Subscription
from agentflowd.swarm.outputs import RUN_FILE, write_outputs
from agentflowd.swarm.plan import Plan
from agentflowd.swarm.stop import StopSignal

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


class ProgressSink(Protocol):
    """What a progress display provides: a subscription filter and a consumer."""

    kinds: tuple[str, ...] | None

    async def consume(self, sub: Subscription, plan: Plan) -> None: ...


@dataclass(frozen=True)
class RunRecord:
    result: RunResult
    run_dir: Path
    outputs: tuple[Path, ...]
    events_recorded: int
    record_error: str | None
    memory_key: tuple[str, str] | None = None  # (namespace, key) of the stored result

    @property
    def run_file(self) -> Path:
        return self.run_dir / RUN_FILE

    @property
    def exit_code(self) -> int:
        if self.result.status == "succeeded":
            return EXIT_OK
        if self.result.status == "cancelled":
            return EXIT_INTERRUPTED
        return EXIT_FAILED


def run_dir_for(project: Path, run_id: str) -> Path:
    return state_dir(project) / "runs" / run_id


def summary_of(result: RunResult, outputs: tuple[Path, ...], run_dir: Path) -> dict[str, Any]:
    """What the run log keeps about a finished run (the full account is in run.json)."""
    return {
        "pid": os.getpid(),
        "reason": result.reason,
        "topology": result.topology,
        "agents": [
            {
                "id": a.id,
                "type": a.type,
                "status": a.status,
                "attempts": a.attempts,
                "duration_ms": round(a.duration_ms, 3),
            }
            for a in result.agents
        ],
        "messages": len(result.messages),
        "votes": len(result.votes),
        "decisions": [
            {"proposal": d.proposal.id, "outcome": d.outcome, "reason": d.reason}
            for d in result.decisions
        ],
        "account": list(result.account),
        "usage": result.usage.to_json(),
        "outputs": [str(p) for p in outputs],
        "run_file": str(run_dir / RUN_FILE),
    }


def run_plan(
    plan: Plan,
    *,
    project: Path,
    run_id: str | None = None,
    progress: ProgressSink | None = None,
    handle_signals: bool = False,
    db_path: Path | None = None,
    sinks: Sequence[Callable[[Event], None]] = (),
    on_start: Callable[[Swarm], None] | None = None,
    stop: StopSignal | None = None,
) -> RunRecord:
    """Run `plan` to the end (or until stopped) and record it; never leaves a child running.

    `sinks` see every event as it is published (they must not block). `on_start` is called on
    the run's event loop with the Swarm before it starts. `stop` ends the run from any thread
    (even before it starts): its agents are stopped and it is recorded as cancelled.
    """
    from agentflowd.memory.db import open_db
    from agentflowd.memory.paths import resolve_db_path
    from agentflowd.memory.runs import EventRecorder, finish_run, start_run

    run_id = run_id or new_run_id()
    run_dir = run_dir_for(project, run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = db_path or resolve_db_path(project=project)
    conn = open_db(path)
    try:
        started = time.time()
        start_run(
            conn,
            run_id,
            plan.skill,
            started_at=started,
            run_dir=run_dir,
            summary={"pid": os.getpid()},
        )
        bus = EventBus()
        recorder = EventRecorder(path, run_id)
        bus.add_sink(recorder)
        for sink in sinks:
            bus.add_sink(sink)
        try:
            result = asyncio.run(_run(plan, run_id, bus, progress, handle_signals, on_start, stop))
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
    stored = remember(plan, result, run_dir, path) if plan.memory is not None else None
    return RunRecord(result, run_dir, outputs, recorder.written, recorder.error, stored)


def remember(plan: Plan, result: RunResult, run_dir: Path, db_path: Path) -> tuple[str, str]:
    """Keep the run's answer, decisions and findings as a project-memory entry (the skill's
    `memory.persistence`); with `vector_search` the entry is embedded in the background."""
    from agentflowd.memory.store import MemoryStore

    spec = plan.memory
    assert spec is not None
    key = f"run/{result.run_id}"
    value = {
        "run_id": result.run_id,
        "skill": result.skill,
        "status": result.status,
        "reason": result.reason,
        "output": result.output,
        "decisions": [
            {
                "proposal": d.proposal.text,
                "kind": d.proposal.kind,
                "outcome": d.outcome,
                "reason": d.reason,
            }
            for d in result.decisions
        ],
        "findings": [dict(f) for f in result.findings],
        "run_dir": str(run_dir),
    }
    with MemoryStore(db_path, embed_on_write=False) as store:
        store.configure_namespace(spec.namespace, embed=spec.vector_search)
        store.store(
            spec.namespace,
            key,
            value,
            is_json=True,
            ttl=spec.ttl,
            tags=("swarm-run", result.status),
            metadata={"run_id": result.run_id, "skill": result.skill},
        )
    return spec.namespace, key


async def _run(
    plan: Plan,
    run_id: str,
    bus: EventBus,
    progress: ProgressSink | None,
    handle_signals: bool,
    on_start: Callable[[Swarm], None] | None,
    stop: StopSignal | None,
) -> RunResult:
    swarm = Swarm(plan, run_id=run_id, bus=bus)
    if on_start is not None:
        on_start(swarm)
    loop = asyncio.get_running_loop()
    if stop is not None:
        stop.bind(loop, swarm.stop)
    installed = []
    if handle_signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, swarm.stop, f"interrupted by {sig.name}")
                installed.append(sig)
    shown: asyncio.Task[None] | None = None
    if progress is not None:
        sub = bus.subscribe(progress.kinds, maxsize=4096)
        shown = loop.create_task(progress.consume(sub, plan))
    try:
        return await swarm.run()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if shown is not None:
            await _settle(shown)


async def _settle(task: Awaitable[None]) -> None:
    # The bus is closed when the run ends, so the display drains and returns on its own.
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, 5.0)
