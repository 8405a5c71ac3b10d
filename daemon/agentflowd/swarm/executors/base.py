"""What every executor-backed agent shares: identity, configuration checks, post-hoc charging,
and for agents that run a child process per attempt, the process bookkeeping."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentflowd.durations import DurationError, parse_duration
from agentflowd.swarm import events
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import BudgetExceeded, ExecutorError, SwarmConfigError
from agentflowd.swarm.executors.subproc import DEFAULT_KILL_GRACE, ProcessResult, run_process
from agentflowd.swarm.model import Result, Task, Usage


@dataclass(frozen=True)
class AgentSetup:
    """Everything the plan builder resolved for one agent."""

    id: str
    type: str
    capabilities: frozenset[str]
    executor: Mapping[str, Any]
    system_prompt: str
    tools: tuple[str, ...] | None
    model: str | None
    max_turns: int | None
    workdir: Path
    project: Path
    where: str  # names the agent in error messages


class ExecutorAgent:
    """An agent whose work is done by an executor. Subclasses implement `run`."""

    kind = "custom"

    def __init__(self, setup: AgentSetup) -> None:
        self.id = setup.id
        self.type = setup.type
        self.capabilities = setup.capabilities
        self.options = Options(setup.executor, setup.where)

    def preflight(self) -> list[str]:
        """Problems that would make every run fail (missing program, missing key); [] when fine."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} ({self.type})>"


class ProcessAgent(ExecutorAgent):
    """An agent that runs one child process per attempt, in `cwd` (relative to the skill folder;
    `default_cwd` without one), killed `kill_grace` after SIGTERM on cancel."""

    def __init__(self, setup: AgentSetup, *, default_cwd: Path) -> None:
        super().__init__(setup)
        cwd = self.options.str("cwd")
        self.cwd = (setup.workdir / cwd).resolve() if cwd else default_cwd
        self.kill_grace = (
            self.options.duration("kill_grace", DEFAULT_KILL_GRACE) or DEFAULT_KILL_GRACE
        )
        self.pids: list[int] = []  # every child started, for the record and for leak checks

    async def spawn(
        self,
        argv: Sequence[str],
        *,
        stdin: bytes,
        env: Mapping[str, str],
        output_limit: int,
        task: Task,
        ctx: AgentContext,
        program: str,
        name: str,
    ) -> ProcessResult:
        """Run `argv` to its end; `program` labels the process event, `name` the start error."""

        def spawned(pid: int) -> None:
            self.pids.append(pid)
            if ctx.bus.active:
                ctx.emit(events.PROCESS_STARTED, {"pid": pid, "task": task.id, "program": program})

        try:
            return await run_process(
                argv,
                stdin=stdin,
                cwd=self.cwd,
                env=env,
                output_limit=output_limit,
                kill_grace=self.kill_grace,
                on_spawn=spawned,
            )
        except OSError as exc:
            raise ExecutorError(
                f"cannot start {name}: {exc.strerror or exc}", retryable=False
            ) from exc


def charge_after(ctx: AgentContext, usage: Usage) -> str | None:
    """Charge what a finished run reported. The answer is kept even when this crosses a budget
    (it is paid for); the breach is returned, and the meter has already stopped the swarm or
    will refuse this agent's next turn."""
    if not (usage.turns or usage.tokens or usage.usd):
        return None
    try:
        ctx.charge(usage)
    except BudgetExceeded as exc:
        return str(exc)
    return None


def with_budget_note(result: Result, note: str | None) -> Result:
    if note is None:
        return result
    return dataclasses.replace(result, meta={**result.meta, "budget": note})


def charged(ctx: AgentContext, result: Result) -> Result:
    """`result` after charging the usage it reports (see `charge_after`)."""
    return with_budget_note(result, charge_after(ctx, result.usage))


class Options:
    """Typed reads of one executor mapping, with errors that name the agent and the key."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def error(self, key: str, want: str) -> SwarmConfigError:
        return SwarmConfigError(f"{self.where}: executor `{key}` must be {want}")

    def str(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.error(key, "a string")
        return value

    def int(self, key: str, default: int | None = None, *, minimum: int = 1) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"an integer >= {minimum}")
        return value

    def number(self, key: str, default: float | None = None) -> float | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise self.error(key, "a number >= 0")
        return float(value)

    def bool(self, key: str, default: bool = False) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "true or false")
        return value

    def duration(self, key: str, default: float | None = None) -> float | None:
        value = self.data.get(key)
        if value is None:
            return default
        try:
            return parse_duration(value)
        except DurationError as exc:
            raise self.error(key, f"a duration ({exc})") from exc

    def strings(self, key: str) -> tuple[str, ...] | None:
        """A list of strings, or one string split on commas and spaces."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return tuple(p for p in value.replace(",", " ").split() if p)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise self.error(key, "a list of strings")

    def string_list(self, key: str) -> tuple[str, ...] | None:
        """A list of strings kept whole (argv: items may contain spaces)."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise self.error(key, "a non-empty list of strings")
