"""The Agent protocol and the context an agent runs in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Message, Result, Task, Usage


@runtime_checkable
class Agent(Protocol):
    """Anything that can take a task and answer it. Executors build these; tests may write their own."""

    id: str
    type: str
    capabilities: frozenset[str]

    async def run(self, task: Task, ctx: AgentContext) -> Result: ...


class AgentContext:
    """One agent's view of its run: identity, budget meter, messaging and events.

    Safe to call from a worker thread (sync `python` entry points run in one): calls are carried
    over to the event loop and their exceptions come back to the caller.
    """

    __slots__ = (
        "_loop",
        "_send",
        "_thread",
        "agent_id",
        "bus",
        "meter",
        "project",
        "run_id",
        "workdir",
    )

    def __init__(
        self,
        *,
        run_id: str,
        agent_id: str,
        project: Path,
        workdir: Path,
        meter: BudgetMeter,
        bus: EventBus,
        send: Callable[[str, str, Any], tuple[Message, ...]] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.run_id = run_id
        self.agent_id = agent_id
        self.project = project
        self.workdir = workdir
        self.meter = meter
        self.bus = bus
        self._send = send
        self._loop = loop
        # Contexts are made on the loop's thread; calls from any other thread hop over to it.
        self._thread = threading.get_ident()

    def _on_loop(self, fn: Callable[[], Any]) -> Any:
        loop = self._loop
        if loop is None or threading.get_ident() == self._thread:
            return fn()

        async def call() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(call(), loop).result()

    def check_budget(self) -> None:
        """Raise BudgetExceeded when this agent may not start another model turn."""
        self._on_loop(lambda: self.meter.check(self.agent_id))

    def charge(self, usage: Usage) -> None:
        """Record what one turn cost; raise BudgetExceeded when it went over a limit."""
        self._on_loop(lambda: self.meter.charge(self.agent_id, usage))

    def remaining(self, what: str) -> float | None:
        return self._on_loop(lambda: self.meter.remaining(self.agent_id, what))

    def send(self, to: str, content: Any) -> tuple[Message, ...]:
        """Send a message through the swarm's topology; returns the deliveries made."""
        if self._send is None:
            return ()
        send = self._send
        return self._on_loop(lambda: send(self.agent_id, to, content))

    def emit(self, kind: str, data: Mapping[str, Any]) -> None:
        self._on_loop(lambda: self.bus.emit(kind, self.agent_id, data))
