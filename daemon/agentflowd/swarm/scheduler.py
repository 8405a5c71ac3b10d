"""Runs tasks on agents: bounded concurrency, per-attempt timeouts, retries with backoff, and
reassignment of a task whose agent kept failing to a healthy agent of the same type.

Hot path: a batch is served by worker coroutines pulling from a deque, not one asyncio task per
agent-task. A worker is added only when all the others are waiting inside an agent (never more
than `max_concurrent`), so agents that answer without waiting cost no trip through the event
loop, and agents that wait still all run at once. A swarm-wide semaphore bounds concurrency across batches
that run at the same time (hierarchy sub-trees). Events are only built when someone listens.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from agentflowd.swarm import events
from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import AgentFailure, AgentTimeout, BudgetExceeded
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Result, Task, Usage
from agentflowd.swarm.plan import AgentSlot, ExecutionPolicy


class Attempt:
    __slots__ = ("agent", "duration_ms", "error", "kind", "number", "started")

    def __init__(self, agent: str, number: int, started: float) -> None:
        self.agent = agent
        self.number = number
        self.started = started
        self.duration_ms = 0.0
        self.error: str | None = None
        self.kind = "running"  # ok | failed | timeout | budget | cancelled

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "agent": self.agent,
            "attempt": self.number,
            "result": self.kind,
            "duration_ms": round(self.duration_ms, 3),
        }
        if self.error is not None:
            out["error"] = self.error
        return out


class Outcome:
    """What became of one task: who ran it, every attempt, and its result or error."""

    __slots__ = ("agent", "assigned", "attempts", "error", "reassigned", "result", "status", "task")

    def __init__(self, task: Task, assigned: str) -> None:
        self.task = task
        self.assigned = assigned
        self.agent = assigned  # who holds it now (changes on reassignment)
        self.status = "pending"  # pending | running | ok | failed | cancelled | skipped
        self.result: Result | None = None
        self.error: str | None = None
        self.attempts: list[Attempt] = []
        self.reassigned: list[str] = []  # agents it was taken from

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def output(self) -> Any:
        return None if self.result is None else self.result.output

    def to_json(self, *, with_output: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.task.id,
            "kind": self.task.kind,
            "round": self.task.round,
            "assigned": self.assigned,
            "agent": self.agent,
            "status": self.status,
            "attempts": [a.to_json() for a in self.attempts],
            "duration_ms": round(sum(a.duration_ms for a in self.attempts), 3),
        }
        if self.reassigned:
            out["reassigned_from"] = list(self.reassigned)
        if self.error is not None:
            out["error"] = self.error
        if with_output and self.result is not None:
            out["output"] = self.result.output
        return out


class Member:
    """An agent in a running swarm, with its context and counters."""

    __slots__ = (
        "agent",
        "attempts",
        "ctx",
        "duration_ms",
        "failed",
        "healthy",
        "id",
        "last_error",
        "ok",
        "running",
        "slot",
        "timeout",
        "usage",
    )

    def __init__(self, slot: AgentSlot, ctx: AgentContext, timeout: float | None) -> None:
        self.slot = slot
        self.agent = slot.agent
        self.id = slot.agent.id
        self.ctx = ctx
        self.timeout = timeout
        self.attempts = 0
        self.ok = 0
        self.failed = 0
        self.running = 0
        self.duration_ms = 0.0
        self.healthy = True
        self.last_error: str | None = None
        self.usage = Usage()


class Scheduler:
    def __init__(
        self,
        members: dict[str, Member],
        policy: ExecutionPolicy,
        bus: EventBus,
        *,
        check_budget: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        self.members = members
        self.policy = policy
        self.bus = bus
        self.check_budget = check_budget
        self.rng = rng or random.Random()
        limit = policy.concurrency
        self._limit = limit
        self._sem = asyncio.Semaphore(limit) if limit is not None else None
        self.ledger: list[Outcome] = []
        self.running = 0
        self.max_running = 0
        self._by_type: dict[str, list[Member]] = {}
        for m in members.values():
            self._by_type.setdefault(m.agent.type, []).append(m)

    async def run(
        self, work: Sequence[tuple[Task, str]], *, reassign: bool | None = None
    ) -> list[Outcome]:
        """Run every (task, agent id) pair; outcomes come back in the same order."""
        reassign = self.policy.reassign if reassign is None else reassign
        outcomes = [Outcome(task, agent_id) for task, agent_id in work]
        self.ledger.extend(outcomes)
        if not outcomes:
            return outcomes
        queue = deque(outcomes)
        limit = self._limit
        if limit == 1 or len(outcomes) == 1:
            while queue:
                await self._execute(queue.popleft(), reassign)
            return outcomes
        # Workers are added only when every worker so far is suspended inside an agent, so agents
        # that finish without waiting run back to back on one worker, and agents that wait still
        # all run at once (up to the limit).
        width = 0
        busy = 0

        async def worker() -> None:
            nonlocal busy
            while queue:
                outcome = queue.popleft()
                busy += 1
                if queue and busy == width and (limit is None or width < limit):
                    spawn()
                try:
                    await self._execute(outcome, reassign)
                finally:
                    busy -= 1

        async with asyncio.TaskGroup() as group:

            def spawn() -> None:
                nonlocal width
                width += 1
                group.create_task(worker())

            spawn()
        return outcomes

    async def _execute(self, outcome: Outcome, reassign: bool) -> None:
        member = self.members[outcome.assigned]
        tried = {member.id}
        if not member.healthy:
            alt = self._healthy_peer(member, outcome.task, tried) if reassign else None
            if alt is None:
                outcome.status = "skipped"
                outcome.error = f"{member.id} is unhealthy after earlier failures"
                return
            self._reassign(outcome, member, alt, "unhealthy")
            member = alt
            tried.add(member.id)
        while True:
            error = await self._attempts(outcome, member)
            if error is None:
                return
            if isinstance(error, BudgetExceeded) and error.scope == member.id:
                self._mark_unhealthy(member, str(error))
            if not error.retryable or not reassign:
                break
            self._mark_unhealthy(member, str(error))
            alt = self._healthy_peer(member, outcome.task, tried)
            if alt is None:
                break
            self._reassign(outcome, member, alt, str(error))
            member = alt
            tried.add(member.id)
        outcome.status = "failed"

    def _reassign(self, outcome: Outcome, old: Member, new: Member, why: str) -> None:
        outcome.reassigned.append(old.id)
        outcome.agent = new.id
        if self.bus.active:
            self.bus.emit(
                events.TASK_REASSIGNED,
                new.id,
                {"task": outcome.task.id, "from": old.id, "to": new.id, "reason": why},
            )

    def _mark_unhealthy(self, member: Member, why: str) -> None:
        if member.healthy:
            member.healthy = False
            if self.bus.active:
                self.bus.emit(events.AGENT_UNHEALTHY, member.id, {"reason": why})

    def _healthy_peer(self, member: Member, task: Task, tried: set[str]) -> Member | None:
        peers = [
            m
            for m in self._by_type.get(member.agent.type, ())
            if m.healthy and m.id not in tried and task.requires <= m.agent.capabilities
        ]
        # Prefer a peer in the same role: a spoke's task goes to another spoke before the hub.
        role = member.slot.role
        return (
            min(peers, key=lambda m: (m.slot.role != role, m.running, m.attempts))
            if peers
            else None
        )

    async def _attempts(self, outcome: Outcome, member: Member) -> AgentFailure | None:
        task = outcome.task
        retry = self.policy.retry
        timeout = member.timeout
        agent = member.agent
        ctx = member.ctx
        active = self.bus.active
        number = 0
        while True:
            number += 1
            sem = self._sem
            if sem is not None:
                await sem.acquire()
            attempt = Attempt(member.id, number, time.time())
            outcome.attempts.append(attempt)
            outcome.status = "running"
            member.attempts += 1
            member.running += 1
            self.running += 1
            if self.running > self.max_running:
                self.max_running = self.running
            if active:
                self.bus.emit(
                    events.AGENT_STARTED,
                    member.id,
                    {"task": task.id, "kind": task.kind, "attempt": number},
                )
            error: AgentFailure | None = None
            t0 = time.perf_counter()
            try:
                if self.check_budget:
                    ctx.check_budget()
                if timeout is None:
                    result = await agent.run(task, ctx)
                else:
                    async with asyncio.timeout(timeout):
                        result = await agent.run(task, ctx)
            except AgentFailure as exc:
                error = exc
            except TimeoutError:
                error = AgentTimeout(f"timed out after {timeout:g}s")
            except asyncio.CancelledError:
                attempt.kind = "cancelled"
                attempt.error = "cancelled"
                attempt.duration_ms = (time.perf_counter() - t0) * 1000.0
                member.duration_ms += attempt.duration_ms
                outcome.status = "cancelled"
                outcome.error = "cancelled"
                raise
            except Exception as exc:  # a bug in an agent is that agent's failure, not the swarm's
                error = AgentFailure(f"{type(exc).__name__}: {exc}")
            finally:
                member.running -= 1
                self.running -= 1
                if sem is not None:
                    sem.release()
            elapsed = (time.perf_counter() - t0) * 1000.0
            attempt.duration_ms = elapsed
            member.duration_ms += elapsed
            if error is None:
                if not isinstance(result, Result):
                    result = Result(output=result)
                attempt.kind = "ok"
                outcome.status = "ok"
                outcome.result = result
                member.ok += 1
                if result.usage.turns or result.usage.tokens or result.usage.usd:
                    member.usage = member.usage + result.usage
                if active:
                    self.bus.emit(
                        events.AGENT_FINISHED,
                        member.id,
                        {
                            "task": task.id,
                            "kind": task.kind,
                            "attempt": number,
                            "duration_ms": round(elapsed, 3),
                        },
                    )
                return None
            attempt.kind = error.kind
            attempt.error = str(error)
            outcome.error = str(error)
            member.failed += 1
            member.last_error = str(error)
            final = not error.retryable or number >= retry.max_attempts
            if active:
                self.bus.emit(
                    events.AGENT_FAILED,
                    member.id,
                    {
                        "task": task.id,
                        "kind": task.kind,
                        "attempt": number,
                        "error": str(error),
                        "reason": error.kind,
                        "final": final,
                    },
                )
            if final:
                return error
            delay = retry.delay(number, self.rng)
            if active:
                self.bus.emit(
                    events.AGENT_RETRIED,
                    member.id,
                    {"task": task.id, "attempt": number + 1, "delay_s": round(delay, 6)},
                )
            await asyncio.sleep(delay)
