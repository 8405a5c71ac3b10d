"""The `claude` executor through its real client code against a fake `claude` on PATH."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agentflowd.swarm.budget import Budget, BudgetMeter
from agentflowd.swarm.engine import Swarm
from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.model import Proposal, Task
from agentflowd.swarm.plan import AgentSlot, Plan
from tests.swarm.conftest import FakeClaude
from tests.swarm.support import alive, executor_agent, run_agent


def claude_agent(project: Path, *, executor: dict[str, Any] | None = None, **kw: Any):
    setup = dict(
        id="reviewer-1",
        type="reviewer",
        capabilities=frozenset({"review"}),
        system_prompt="You are a careful reviewer.",
        tools=("Read", "Grep"),
        model="sonnet",
        max_turns=6,
        workdir=project / "skill",
        project=project,
    )
    setup.update(kw)
    return executor_agent(project, {"kind": "claude", **(executor or {})}, **setup)


def go(agent, task: Task, meter: BudgetMeter | None = None):
    return run_agent(agent, task, Path(), meter=meter)


TASK = Task("t1", "work", "Review auth.py", inputs={"branch": "main"})


def test_runs_claude_headless_with_the_agent_settings(
    fake_claude: FakeClaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLAUDECODE", "1")
    fake_claude.replies(
        [
            {
                "result": "No problems found.",
                "num_turns": 3,
                "cost": 0.042,
                "input_tokens": 900,
                "output_tokens": 120,
                "cache_read": 50,
            }
        ]
    )
    agent = claude_agent(tmp_path)
    assert agent.preflight() == []
    meter = BudgetMeter(per_agent=Budget(max_turns=4, max_usd=1.0))
    result = go(agent, TASK, meter)
    [call] = fake_claude.calls()
    argv = call["argv"]
    assert argv[:3] == ["-p", "--output-format", "json"]
    assert argv[argv.index("--model") + 1] == "sonnet"
    assert argv[argv.index("--system-prompt") + 1] == "You are a careful reviewer."
    assert argv[argv.index("--allowedTools") + 1] == "Read,Grep"
    assert argv[argv.index("--max-turns") + 1] == "4"  # the budget's 4 beats the agent's 6
    assert argv[argv.index("--max-budget-usd") + 1] == "1.0000"
    assert "Review auth.py" in call["stdin"] and "- branch: main" in call["stdin"]
    assert "CLAUDECODE" not in call["env"]
    assert call["env"]["PATH"].startswith(str(fake_claude.bin))
    assert call["cwd"] == str(tmp_path)  # Claude Code works in the project
    assert result.output == "No problems found."
    assert (result.usage.turns, result.usage.input_tokens, result.usage.output_tokens) == (
        3,
        950,
        120,
    )
    assert result.usage.usd == pytest.approx(0.042)
    assert result.meta["num_turns"] == 3 and len(result.meta["session_id"]) == 36
    assert meter.used("reviewer-1") == {"turns": 3, "tokens": 1070, "usd": 0.042}


def test_verbose_array_output_is_parsed(fake_claude: FakeClaude, tmp_path: Path) -> None:
    fake_claude.replies([{"result": "from the array"}])
    result = go(claude_agent(tmp_path, executor={"args": ["--verbose"]}), TASK)
    assert "--verbose" in fake_claude.calls()[0]["argv"]
    assert result.output == "from the array"


def test_json_in_the_result_text_is_read_as_an_answer(
    fake_claude: FakeClaude, tmp_path: Path
) -> None:
    fake_claude.replies(
        [
            {
                "result": 'Here you go:\n```json\n{"votes": {"p1": "approve", "p2": "no"}, "confidence": 0.7}\n```'
            }
        ]
    )
    task = Task(
        "v",
        "vote",
        "vote",
        proposals=(Proposal("p1", "finding", "a", ("x",)), Proposal("p2", "finding", "b", ("y",))),
    )
    result = go(claude_agent(tmp_path), task)
    assert {k: b.vote for k, b in result.ballots.items()} == {"p1": "approve", "p2": "reject"}
    assert result.confidence == 0.7
    stdin = fake_claude.calls()[0]["stdin"]
    assert '"p1": "approve|reject|abstain"' in stdin


@pytest.mark.parametrize(
    ("subtype", "retryable"),
    [("error_during_execution", True), ("error_max_turns", False), ("error_max_budget_usd", False)],
)
def test_errors_are_failures_and_budget_stops_are_final(
    fake_claude: FakeClaude, tmp_path: Path, subtype: str, retryable: bool
) -> None:
    fake_claude.replies([{"is_error": True, "subtype": subtype, "result": "it broke"}])
    with pytest.raises(ExecutorError) as failed:
        go(claude_agent(tmp_path), TASK)
    assert f"({subtype})" in str(failed.value)
    assert failed.value.retryable is retryable


def test_missing_claude_is_reported_before_running(tmp_path: Path) -> None:
    agent = claude_agent(tmp_path, executor={"executable": str(tmp_path / "nope" / "claude")})
    [problem] = agent.preflight()
    assert "Claude Code" in problem and "not found" in problem


def test_garbage_output_is_a_clear_failure(fake_claude: FakeClaude, tmp_path: Path) -> None:
    fake_claude.exe.write_text("#!/bin/sh\necho 'Error: not logged in' >&2\nexit 1\n")
    with pytest.raises(
        ExecutorError, match=r"no result object \(exit status 1\): Error: not logged in"
    ):
        go(claude_agent(tmp_path), TASK)


def test_cancel_kills_claude_and_its_children(fake_claude: FakeClaude, tmp_path: Path) -> None:
    fake_claude.replies([{"sleep": 30, "child": True}])
    agent = claude_agent(tmp_path, executor={"kill_grace": "100ms"})
    plan = Plan("c", (AgentSlot(agent, "wait"),))

    async def go_():
        swarm = Swarm(plan)
        task = asyncio.ensure_future(swarm.run())
        while not fake_claude.calls():
            await asyncio.sleep(0.02)
        swarm.stop("bye")
        return await task

    result = asyncio.run(go_())
    assert result.status == "cancelled"
    [call] = fake_claude.calls()
    assert not alive(call["pid"]) and not alive(call["child_pid"])
