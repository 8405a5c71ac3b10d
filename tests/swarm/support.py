"""In-process agents and helpers for driving the engine without subprocesses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.engine import RunResult, Swarm
from agentflowd.swarm.errors import AgentFailure
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.executors import AgentSetup, ExecutorAgent, make_agent
from agentflowd.swarm.model import Ballot, Result, Subtask, Task
from agentflowd.swarm.plan import AgentSlot, Plan


class Scripted:
    """An agent whose answers come from callables; records every task it receives."""

    def __init__(
        self,
        agent_id: str,
        agent_type: str = "worker",
        capabilities: Sequence[str] = (),
        *,
        work: Callable[[Task], Any] | Any = None,
        vote: Callable[[Task], Any] | Any = None,
        split: Callable[[Task], Any] | Any = None,
        aggregate: Callable[[Task], Any] | Any = None,
        fail: int = 0,
        delay: float = 0.0,
        error: str = "scripted failure",
    ) -> None:
        self.id = agent_id
        self.type = agent_type
        self.capabilities = frozenset(capabilities)
        self.handlers = {"work": work, "vote": vote, "split": split, "aggregate": aggregate}
        self.fail = fail
        self.delay = delay
        self.error = error
        self.tasks: list[Task] = []
        self.starts: list[float] = []

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        self.tasks.append(task)
        self.starts.append(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail > 0:
            self.fail -= 1
            raise AgentFailure(self.error)
        handler = self.handlers[task.kind]
        value = handler(task) if callable(handler) else handler
        if isinstance(value, Result):
            return value
        if value is None and task.kind in ("work", "aggregate"):
            value = f"{self.id}:{task.kind}:{task.instruction}"
        return Result(output=value)

    def received(self, kind: str | None = None) -> list[Task]:
        return [t for t in self.tasks if kind is None or t.kind == kind]


def approve_all(task: Task) -> Result:
    return Result(ballots={p.id: Ballot("approve") for p in task.proposals})


def ballots(**votes: str) -> Callable[[Task], Result]:
    return lambda task: Result(ballots={pid: Ballot(v) for pid, v in votes.items()})  # type: ignore[arg-type]


def subtasks(*items: tuple[str | None, str]) -> Callable[[Task], Result]:
    return lambda task: Result(subtasks=tuple(Subtask(text, worker) for worker, text in items))


def plan(*slots: AgentSlot | Scripted, **kw: Any) -> Plan:
    built = tuple(s if isinstance(s, AgentSlot) else AgentSlot(s, f"task of {s.id}") for s in slots)
    return Plan(kw.pop("skill", "test"), built, **kw)


def slot(agent: Any, *, instruction: str | None = None, **kw: Any) -> AgentSlot:
    return AgentSlot(agent, instruction if instruction is not None else f"task of {agent.id}", **kw)


def run(p: Plan, *, bus: EventBus | None = None) -> RunResult:
    return asyncio.run(Swarm(p, bus=bus).run())


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a zombie has exited; only its entry remains)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def open_fds() -> set[int]:
    return {int(p.name) for p in Path("/proc/self/fd").iterdir()}


def executor_agent(folder: Path, executor: Mapping[str, Any], **setup: Any) -> ExecutorAgent:
    """An agent made as the plan builder makes one; `setup` overrides AgentSetup fields."""
    fields: dict[str, Any] = {
        "id": "agent-1",
        "type": "agent",
        "capabilities": frozenset(),
        "executor": executor,
        "system_prompt": "",
        "tools": None,
        "model": None,
        "max_turns": None,
        "workdir": folder,
        "project": folder,
        "where": "test",
    }
    fields.update(setup)
    return make_agent(AgentSetup(**fields))


def run_agent(
    agent: ExecutorAgent,
    task: Task,
    project: Path,
    *,
    meter: BudgetMeter | None = None,
    bus: EventBus | None = None,
    send: Callable[[str, str, Any], Any] | None = None,
) -> Any:
    """One `agent.run(task)` on a fresh loop, with a context like the engine gives it."""

    async def inner() -> Any:
        ctx = AgentContext(
            run_id="r",
            agent_id=agent.id,
            project=project,
            workdir=project,
            meter=meter or BudgetMeter(),
            bus=bus or EventBus(),
            send=send,
            loop=asyncio.get_running_loop(),
        )
        return await agent.run(task, ctx)  # type: ignore[attr-defined]

    return asyncio.run(inner())
