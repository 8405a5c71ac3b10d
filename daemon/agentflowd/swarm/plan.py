"""A runnable swarm: agents, their work, how they coordinate, and the limits they run under.

`build.py` makes a Plan from a skill; tests and embedders may make one directly. `check_plan`
refuses, before anything runs, a plan whose tasks need capabilities that no agent has.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agentflowd.swarm.agent import Agent
from agentflowd.swarm.budget import UNLIMITED, Budget
from agentflowd.swarm.consensus import ConsensusRule
from agentflowd.swarm.errors import CapabilityError, SwarmConfigError
from agentflowd.swarm.retry import RetryPolicy
from agentflowd.swarm.topology import TOPOLOGIES

Role = Literal["lead", "worker", "peer"]


@dataclass(frozen=True)
class AgentSlot:
    """One agent of the swarm and how the plan uses it."""

    agent: Agent
    instruction: str  # what it is asked to do unless a task says otherwise
    role: Role = "peer"
    weight: float = 1.0
    executor: str = "custom"  # the executor kind, for reports
    timeout: float | None = None  # per attempt; falls back to the policy's

    @property
    def id(self) -> str:
        return self.agent.id


@dataclass(frozen=True)
class TaskSpec:
    """An explicit task: run by one agent (of `type`, when given) that has every `requires`."""

    id: str
    instruction: str
    requires: frozenset[str] = frozenset()
    type: str | None = None


@dataclass(frozen=True)
class OutputSpec:
    type: Literal["report", "metrics"]
    format: Literal["markdown", "json", "sarif"]
    path: str


@dataclass(frozen=True)
class MemorySpec:
    """The skill's `memory`: keep the run's result as a project-memory entry."""

    namespace: str
    vector_search: bool = False
    ttl: float | None = None


@dataclass(frozen=True)
class ExecutionPolicy:
    parallel: bool = True
    max_concurrent: int | None = None  # None: as many as there is work
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    attempt_timeout: float | None = None
    swarm_timeout: float | None = None
    reassign: bool = True

    @property
    def concurrency(self) -> int | None:
        return 1 if not self.parallel else self.max_concurrent

    def to_json(self) -> dict[str, Any]:
        return {
            "parallel": self.parallel,
            "max_concurrent": self.max_concurrent,
            "retry": self.retry.to_json(),
            "attempt_timeout": self.attempt_timeout,
            "swarm_timeout": self.swarm_timeout,
        }


@dataclass(frozen=True)
class Plan:
    skill: str
    slots: tuple[AgentSlot, ...]
    topology: str = "mesh"
    rounds: int = 1
    consensus: ConsensusRule | None = None
    tasks: tuple[TaskSpec, ...] = ()
    policy: ExecutionPolicy = field(default_factory=ExecutionPolicy)
    swarm_budget: Budget = UNLIMITED
    agent_budget: Budget = UNLIMITED
    outputs: tuple[OutputSpec, ...] = ()
    memory: MemorySpec | None = None
    inputs: Mapping[str, str] = field(default_factory=dict)
    project: Path = field(default_factory=Path.cwd)
    workdir: Path = field(default_factory=Path.cwd)

    def slot(self, agent_id: str) -> AgentSlot:
        return next(s for s in self.slots if s.id == agent_id)


def capable(
    slots: Sequence[AgentSlot], requires: frozenset[str], type_: str | None
) -> list[AgentSlot]:
    return [
        s
        for s in slots
        if (type_ is None or s.agent.type == type_) and requires <= s.agent.capabilities
    ]


def check_plan(plan: Plan) -> None:
    """Raise before anything runs when the plan cannot work as written."""
    if not plan.slots:
        raise SwarmConfigError(f"skill {plan.skill!r} declares no agents")
    if plan.topology not in TOPOLOGIES:
        raise SwarmConfigError(
            f"unknown topology {plan.topology!r} (use one of: {', '.join(TOPOLOGIES)})"
        )
    ids = [s.id for s in plan.slots]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise SwarmConfigError(f"agent ids must be unique: {', '.join(dupes)}")
    if plan.tasks and plan.topology == "ring":
        raise SwarmConfigError(
            "explicit tasks cannot be used with a ring (each agent takes the previous one's output)"
        )
    pool = plan.slots
    if plan.topology == "star" and len(plan.slots) > 1:
        hub = star_hub(plan)
        pool = tuple(s for s in plan.slots if s.id != hub)
    problems = []
    have = sorted(set().union(*(s.agent.capabilities for s in plan.slots)))
    for spec in plan.tasks:
        if capable(pool, spec.requires, spec.type):
            continue
        who = f"agent of type {spec.type!r}" if spec.type else "agent"
        problems.append(
            f"task {spec.id!r} needs {', '.join(sorted(spec.requires)) or 'nothing'} but no {who} "
            f"has {'it' if len(spec.requires) == 1 else 'them all'}"
        )
    if problems:
        raise CapabilityError(
            "refused before running: "
            + "; ".join(problems)
            + f" (capabilities in this swarm: {', '.join(have) or 'none'})"
        )


def star_hub(plan: Plan) -> str:
    """The hub of a star: the first lead, or the first agent."""
    return next((s.id for s in plan.slots if s.role == "lead"), plan.slots[0].id)
