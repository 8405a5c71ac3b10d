"""What every executor-backed agent shares: identity, configuration checks, post-hoc charging."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentflowd.durations import DurationError, parse_duration
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import BudgetExceeded, SwarmConfigError
from agentflowd.swarm.model import Result, Usage


class ExecutorAgent:
    """An agent whose work is done by an executor. Subclasses implement `run`."""

    kind = "custom"

    def __init__(self, agent_id: str, agent_type: str, capabilities: frozenset[str]) -> None:
        self.id = agent_id
        self.type = agent_type
        self.capabilities = capabilities

    def preflight(self) -> list[str]:
        """Problems that would make every run fail (missing program, missing key); [] when fine."""
        return []

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} ({self.type})>"


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
    return Result(
        output=result.output,
        findings=result.findings,
        proposals=result.proposals,
        ballots=result.ballots,
        choice=result.choice,
        confidence=result.confidence,
        messages=result.messages,
        subtasks=result.subtasks,
        usage=result.usage,
        meta={**result.meta, "budget": note},
    )


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
