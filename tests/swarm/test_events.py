"""The event bus: filtered subscriptions, bounded queues that never block, drops counted."""

from __future__ import annotations

import asyncio
import time

from agentflowd.swarm import events
from agentflowd.swarm.consensus import ConsensusRule
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Ballot, Result
from tests.swarm.support import Scripted, plan, run


def test_filters_by_kind_prefix_agent_and_predicate() -> None:
    async def go():
        bus = EventBus()
        exact = bus.subscribe([events.AGENT_FAILED])
        family = bus.subscribe(["agent.*"])
        mine = bus.subscribe(agents=["a"])
        big = bus.subscribe(where=lambda e: e.data.get("n", 0) > 1)
        everything = bus.subscribe()
        bus.emit(events.AGENT_STARTED, "a", {"n": 1})
        bus.emit(events.AGENT_FAILED, "b", {"n": 2})
        bus.emit(events.MESSAGE_ROUTED, "a", {"n": 3})
        bus.close()
        return [
            [(e.kind, e.agent) async for e in s] for s in (exact, family, mine, big, everything)
        ]

    exact, family, mine, big, everything = asyncio.run(go())
    assert exact == [("agent.failed", "b")]
    assert family == [("agent.started", "a"), ("agent.failed", "b")]
    assert mine == [("agent.started", "a"), ("message.routed", "a")]
    assert big == [("agent.failed", "b"), ("message.routed", "a")]
    assert len(everything) == 3


def test_a_full_subscriber_drops_and_counts_and_never_blocks() -> None:
    async def go():
        bus = EventBus()
        slow = bus.subscribe(maxsize=2)
        roomy = bus.subscribe(maxsize=10_000)
        t0 = time.perf_counter()
        for i in range(5000):
            bus.emit(events.AGENT_STARTED, "a", {"i": i})
        took = time.perf_counter() - t0
        bus.close()
        kept = [e.data["i"] async for e in slow]
        return (
            took,
            kept,
            slow.dropped,
            roomy.dropped,
            len([e async for e in roomy]),
            bus.dropped,
            bus.count,
        )

    took, kept, dropped, roomy_dropped, roomy_got, total_dropped, count = asyncio.run(go())
    assert kept == [0, 1]  # the oldest stay; newer ones are dropped
    assert dropped == 4998 and total_dropped == 4998
    assert roomy_dropped == 0 and roomy_got == 5000
    assert count == 5000
    assert took < 1.0


def test_sinks_see_every_event_in_order() -> None:
    bus = EventBus()
    got = []
    bus.add_sink(got.append)
    for i in range(3):
        bus.emit("x", None, {"i": i})
    assert [e.seq for e in got] == [1, 2, 3]


def test_a_run_publishes_its_story() -> None:
    a = Scripted(
        "a",
        work="yes",
        vote=lambda t: Result(ballots={p.id: Ballot("approve") for p in t.proposals}),
    )
    b = Scripted(
        "b",
        work="yes",
        fail=1,
        vote=lambda t: Result(ballots={p.id: Ballot("reject") for p in t.proposals}),
    )
    bus = EventBus()
    got = []
    bus.add_sink(got.append)
    from agentflowd.swarm.plan import ExecutionPolicy
    from agentflowd.swarm.retry import RetryPolicy

    policy = ExecutionPolicy(retry=RetryPolicy(max_attempts=2, initial_delay=0.001))
    result = run(plan(a, b, consensus=ConsensusRule("majority"), policy=policy), bus=bus)
    kinds = [e.kind for e in got]
    assert kinds[0] == events.RUN_STARTED and kinds[-1] == events.RUN_FINISHED
    for kind in (
        events.AGENT_STARTED,
        events.AGENT_FINISHED,
        events.AGENT_FAILED,
        events.AGENT_RETRIED,
        events.MESSAGE_ROUTED,
        events.VOTE_CAST,
        events.CONSENSUS_REACHED,
    ):
        assert kind in kinds, kind
    votes = [(e.agent, e.data["vote"]) for e in got if e.kind == events.VOTE_CAST]
    assert sorted(votes) == [("a", "approve"), ("b", "reject")]
    [decided] = [e for e in got if e.kind == events.CONSENSUS_REACHED]
    assert decided.data["outcome"] == "tie" == result.decisions[0].outcome
    assert [e.seq for e in got] == sorted(e.seq for e in got)
    assert result.events_published == len(got)
