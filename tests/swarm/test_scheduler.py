"""Execution policy: retries and backoff, timeouts, concurrency limits, reassignment, partial runs."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from agentflowd.swarm import events
from agentflowd.swarm.engine import Swarm
from agentflowd.swarm.errors import AgentFailure
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.plan import ExecutionPolicy
from agentflowd.swarm.retry import RetryPolicy
from tests.swarm.support import Scripted, plan, run, slot


def drain(sub) -> list:
    out = []
    while (e := sub.get_nowait()) is not None:
        out.append(e)
    return out


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [
        ("exponential", [0.1, 0.2, 0.4, 0.8, 1.0]),
        ("linear", [0.1, 0.2, 0.3, 0.4, 0.5]),
        ("fixed", [0.1, 0.1, 0.1, 0.1, 0.1]),
    ],
)
def test_backoff_shapes_without_jitter(backoff: str, expected: list[float]) -> None:
    policy = RetryPolicy(
        max_attempts=6, backoff=backoff, initial_delay=0.1, max_delay=1.0, jitter=0
    )  # type: ignore[arg-type]
    assert [round(policy.delay(n), 6) for n in range(1, 6)] == expected


def test_jitter_stays_within_half_to_full_delay() -> None:
    policy = RetryPolicy(backoff="exponential", initial_delay=1.0, max_delay=100.0)
    rng = random.Random(7)
    draws = [policy.delay(3, rng) for _ in range(500)]
    assert all(2.0 <= d <= 4.0 for d in draws)
    assert max(draws) - min(draws) > 1.0  # it really varies


def test_failed_attempts_are_retried_with_backoff_until_success() -> None:
    agent = Scripted("a", fail=2, work="finally")
    bus = EventBus()
    sub = bus.subscribe(["agent.*"])
    retry = RetryPolicy(
        max_attempts=3, backoff="exponential", initial_delay=0.02, max_delay=1, jitter=0
    )
    result = run(plan(agent, policy=ExecutionPolicy(retry=retry)), bus=bus)
    assert result.status == "succeeded"
    [task] = result.tasks
    assert [a.kind for a in task.attempts] == ["failed", "failed", "ok"]
    kinds = [(e.kind, e.data.get("attempt")) for e in drain(sub)]
    assert kinds == [
        (events.AGENT_STARTED, 1),
        (events.AGENT_FAILED, 1),
        (events.AGENT_RETRIED, 2),
        (events.AGENT_STARTED, 2),
        (events.AGENT_FAILED, 2),
        (events.AGENT_RETRIED, 3),
        (events.AGENT_STARTED, 3),
        (events.AGENT_FINISHED, 3),
    ]
    gaps = [b - a for a, b in zip(agent.starts, agent.starts[1:], strict=False)]
    assert gaps[0] >= 0.02 and gaps[1] >= 0.04  # the waits really happened, and grew
    assert result.agents[0].attempts == 3


def test_out_of_attempts_is_a_failure_with_an_account() -> None:
    agent = Scripted("a", fail=9, error="disk on fire")
    other = Scripted("b", "other")
    retry = RetryPolicy(max_attempts=2, initial_delay=0.001, jitter=0)
    result = run(plan(agent, other, policy=ExecutionPolicy(retry=retry)))
    assert result.status == "partial"
    assert len(agent.tasks) == 2
    assert any("failed on a after 2 attempt(s): disk on fire" in line for line in result.account)
    statuses = {a.id: a.status for a in result.agents}
    assert statuses == {"a": "failed", "b": "succeeded"}


def test_non_retryable_failure_is_not_retried() -> None:
    class Broken(Scripted):
        async def run(self, task, ctx):
            self.tasks.append(task)
            raise AgentFailure("bad config", retryable=False)

    agent = Broken("a")
    result = run(
        plan(agent, policy=ExecutionPolicy(retry=RetryPolicy(max_attempts=5, initial_delay=0.001)))
    )
    assert len(agent.tasks) == 1
    assert result.status == "failed"


def test_a_bug_in_an_agent_is_that_agents_failure() -> None:
    agent = Scripted("a", work=lambda t: 1 / 0)
    result = run(plan(agent))
    assert result.status == "failed"
    assert result.tasks[0].error == "ZeroDivisionError: division by zero"


def test_attempt_timeout_cancels_the_attempt_and_counts_as_a_failure() -> None:
    agent = Scripted("a", delay=5)
    retry = RetryPolicy(max_attempts=2, initial_delay=0.001, jitter=0)
    t0 = time.monotonic()
    result = run(plan(slot(agent, timeout=0.05), policy=ExecutionPolicy(retry=retry)))
    assert time.monotonic() - t0 < 2
    assert [a.kind for a in result.tasks[0].attempts] == ["timeout", "timeout"]
    assert result.tasks[0].error == "timed out after 0.05s"


def test_policy_timeout_applies_when_the_agent_has_none() -> None:
    result = run(plan(Scripted("a", delay=5), policy=ExecutionPolicy(attempt_timeout=0.05)))
    assert result.tasks[0].attempts[0].kind == "timeout"


class Gauge:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0


def gauged(name: str, gauge: Gauge, delay: float = 0.03) -> Scripted:
    agent = Scripted(name)

    async def run_(task, ctx):
        gauge.now += 1
        gauge.peak = max(gauge.peak, gauge.now)
        await asyncio.sleep(delay)
        gauge.now -= 1
        return "ok"

    agent.run = run_  # type: ignore[method-assign]
    return agent


@pytest.mark.parametrize(
    ("policy", "peak"),
    [
        (ExecutionPolicy(max_concurrent=3), 3),
        (ExecutionPolicy(parallel=False, max_concurrent=8), 1),
        (ExecutionPolicy(), 12),
    ],
)
def test_observed_concurrency_never_exceeds_the_limit(policy: ExecutionPolicy, peak: int) -> None:
    gauge = Gauge()
    result = run(plan(*(gauged(f"a{i}", gauge) for i in range(12)), policy=policy))
    assert result.status == "succeeded"
    assert gauge.peak == peak
    assert result.max_concurrency == peak


def test_limit_holds_across_hierarchy_subtrees_running_at_once() -> None:
    gauge = Gauge()
    agents = [gauged(f"w{i}", gauge) for i in range(8)]
    root = Scripted("root", aggregate="done")
    leads = [Scripted(f"l{i}", aggregate="sub") for i in range(2)]
    p = plan(
        slot(root, role="lead"),
        *(slot(x, role="lead") for x in leads),
        *(slot(w, role="worker") for w in agents),
        topology="hierarchy",
        policy=ExecutionPolicy(max_concurrent=3),
    )
    result = run(p)
    assert result.status == "succeeded"
    assert gauge.peak <= 3 and result.max_concurrency <= 3


def test_a_failing_agents_task_is_reassigned_to_a_healthy_agent_of_its_type() -> None:
    bad = Scripted("reviewer-1", "reviewer", fail=99)
    good = Scripted("reviewer-2", "reviewer", work=lambda t: f"done {t.instruction}")
    other = Scripted("coder-1", "coder")
    bus = EventBus()
    sub = bus.subscribe([events.TASK_REASSIGNED, events.AGENT_UNHEALTHY])
    retry = RetryPolicy(max_attempts=2, initial_delay=0.001)
    result = run(
        plan(
            slot(bad, instruction="review A"),
            slot(good, instruction="review B"),
            other,
            policy=ExecutionPolicy(retry=retry, max_concurrent=1),
        ),
        bus=bus,
    )
    moved = next(t for t in result.tasks if t.assigned == "reviewer-1")
    assert (
        moved.status == "ok" and moved.agent == "reviewer-2" and moved.reassigned == ["reviewer-1"]
    )
    assert [a.agent for a in moved.attempts] == ["reviewer-1", "reviewer-1", "reviewer-2"]
    assert sorted(t.instruction for t in good.tasks) == ["review A", "review B"]
    assert other.tasks[0].instruction != "review A"  # never to another type
    assert result.status == "succeeded"
    assert any("reassigned from reviewer-1 to reviewer-2" in line for line in result.account)
    seen = [(e.kind, e.agent) for e in drain(sub)]
    assert seen == [(events.AGENT_UNHEALTHY, "reviewer-1"), (events.TASK_REASSIGNED, "reviewer-2")]
    assert {a.id: a.status for a in result.agents}["reviewer-1"] == "failed"


def test_an_unhealthy_agent_gets_no_more_work_in_later_rounds() -> None:
    bad = Scripted("r1", "reviewer", fail=99)
    good = Scripted("r2", "reviewer")
    result = run(plan(bad, good, rounds=2, policy=ExecutionPolicy(max_concurrent=1)))
    assert len(bad.tasks) == 1
    assert [t.round for t in good.tasks] == [1, 1, 2, 2]
    assert result.status == "succeeded"


def test_swarm_timeout_stops_everything_and_reports_partial_results() -> None:
    fast = Scripted("fast", "f", work="quick")
    slow = [Scripted(f"slow{i}", "s", delay=30) for i in range(3)]
    t0 = time.monotonic()
    result = run(plan(fast, *slow, policy=ExecutionPolicy(swarm_timeout=0.2)))
    assert time.monotonic() - t0 < 3
    assert result.status == "partial"
    assert result.reason == "the swarm timed out after 0.2s"
    statuses = {a.id: a.status for a in result.agents}
    assert statuses == {
        "fast": "succeeded",
        "slow0": "cancelled",
        "slow1": "cancelled",
        "slow2": "cancelled",
    }
    assert [t.status for t in result.tasks if t.assigned.startswith("slow")] == ["cancelled"] * 3


def test_stop_cancels_the_run() -> None:
    agents = [Scripted(f"a{i}", delay=30) for i in range(3)]

    async def go():
        swarm = Swarm(plan(*agents))
        asyncio.get_running_loop().call_later(0.1, swarm.stop, "user asked")
        return await swarm.run()

    result = asyncio.run(go())
    assert result.status == "cancelled"
    assert result.reason == "user asked"
    assert all(a.status == "cancelled" for a in result.agents)


def test_cancelling_the_caller_cancels_the_run_and_propagates() -> None:
    agents = [Scripted(f"a{i}", delay=30) for i in range(2)]
    swarm = Swarm(plan(*agents))

    async def go():
        task = asyncio.ensure_future(swarm.run())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    assert all(len(a.tasks) == 1 for a in agents)
