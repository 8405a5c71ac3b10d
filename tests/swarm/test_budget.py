"""Budgets: per agent and per swarm, checked inside the agent loop; over budget stops and says why."""

from __future__ import annotations

import asyncio

import pytest

from agentflowd.swarm import events
from agentflowd.swarm.budget import Budget, BudgetMeter
from agentflowd.swarm.errors import BudgetExceeded
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Result, Usage
from tests.swarm.support import Scripted, plan, run


def test_meter_warns_at_80_percent_then_refuses() -> None:
    seen = []
    meter = BudgetMeter(
        Budget(max_tokens=100),
        emit=lambda kind, agent, data: seen.append((kind, data["what"], data["used"])),
    )
    meter.charge("a", Usage(1, 50, 0))
    assert seen == []
    meter.charge("a", Usage(1, 20, 10))
    assert seen == [(events.BUDGET_WARNING, "tokens", 80)]
    meter.check("a")  # 80 < 100: room for another turn
    with pytest.raises(BudgetExceeded) as over:
        meter.charge("b", Usage(1, 30, 0))
    assert (over.value.scope, over.value.what, over.value.used, over.value.limit) == (
        "swarm",
        "tokens",
        110,
        100,
    )
    assert not over.value.retryable
    with pytest.raises(BudgetExceeded):
        meter.check("a")  # once the swarm is over, nobody gets another turn


def test_turn_limit_allows_exactly_max_turns() -> None:
    meter = BudgetMeter(per_agent=Budget(max_turns=2))
    for _ in range(2):
        meter.check("a")
        meter.charge("a", Usage(turns=1))
    with pytest.raises(BudgetExceeded, match="agent a used 2 turns of 2 turns"):
        meter.check("a")
    meter.check("b")  # per agent: b has its own turns


def test_remaining_is_the_tighter_of_agent_and_swarm() -> None:
    meter = BudgetMeter(Budget(max_usd=1.0), Budget(max_usd=0.6))
    meter.charge("a", Usage(usd=0.5))
    meter.charge("b", Usage(usd=0.2))
    assert meter.remaining("a", "usd") == pytest.approx(0.1)  # its own limit is tighter
    assert meter.remaining("c", "usd") == pytest.approx(0.3)  # the swarm's is
    assert meter.remaining("a", "turns") is None


class Spender(Scripted):
    """An agent loop that charges a turn at a time, like the API executors do."""

    def __init__(
        self, agent_id: str, tokens_per_turn: int, turns: int, pause: float = 0.01
    ) -> None:
        super().__init__(agent_id, "spender")
        self.per_turn = tokens_per_turn
        self.turns = turns
        self.pause = pause
        self.done_turns = 0

    async def run(self, task, ctx):
        self.tasks.append(task)
        for _ in range(self.turns):
            ctx.check_budget()
            await asyncio.sleep(self.pause)
            ctx.charge(Usage(1, self.per_turn, 0))
            self.done_turns += 1
        return Result(output=f"{self.id} finished")


def test_swarm_over_budget_stops_every_agent_and_reports_why() -> None:
    cheap = Spender("cheap", 1, 1)
    hogs = [Spender(f"hog{i}", 100, 50) for i in range(3)]
    bus = EventBus()
    sub = bus.subscribe(["budget.*", events.RUN_STOPPING])
    result = run(plan(cheap, *hogs, swarm_budget=Budget(max_tokens=1000)), bus=bus)
    assert result.status == "partial"
    assert result.reason.startswith("budget exceeded: the swarm used")
    assert "of 1000 tokens" in result.reason
    assert result.account[0] == f"stopped: {result.reason}"
    # every hog stopped long before its 50 turns
    assert all(h.done_turns < 12 for h in hogs)
    assert sum(h.done_turns for h in hogs) * 100 <= 1000 + 100 * len(hogs)
    kinds = []
    while (e := sub.get_nowait()) is not None:
        kinds.append(e.kind)
    assert (
        events.BUDGET_WARNING in kinds
        and events.BUDGET_EXCEEDED in kinds
        and events.RUN_STOPPING in kinds
    )
    assert {a.id: a.status for a in result.agents}["cheap"] == "succeeded"


def test_agent_over_its_own_budget_stops_alone_and_is_not_retried() -> None:
    hog = Spender("hog", 100, 50)
    fine = Spender("fine", 10, 3)
    result = run(plan(hog, fine, agent_budget=Budget(max_tokens=250)))
    assert hog.done_turns == 2  # the third turn's charge (300 > 250) raised inside its loop
    assert len(hog.tasks) == 1
    assert fine.done_turns == 3
    assert result.status == "partial"
    hog_task = next(t for t in result.tasks if t.assigned == "hog")
    assert hog_task.attempts[-1].kind == "budget"
    assert "agent hog used 300 tokens of 250 tokens" in hog_task.error
