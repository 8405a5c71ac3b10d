"""The swarm's `claude` executor against the real Claude Code CLI and the stand-in API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.budget import UNLIMITED, Budget, BudgetMeter
from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.executors import AgentSetup, make_agent
from agentflowd.swarm.model import Result, Task, Usage
from tests.e2e.anthropic_standin import StandIn, Text, ToolUse, texts, tool_results
from tests.e2e.conftest import child_env

pytestmark = pytest.mark.e2e

ANSWER = "Two findings: the config has no timeout, and the retry loop never backs off."


@pytest.fixture
def claude_env(
    claude_bin: Path, standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The executor passes its own environment on to `claude`: make it the offline one."""
    for key in ("ANTHROPIC_AUTH_TOKEN", "CLAUDE_CONFIG_DIR", "CLAUDECODE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in child_env(tmp_path, standin.base_url).items():
        monkeypatch.setenv(key, value)
    return claude_bin


def run_agent(
    claude_bin: Path, project: Path, task: Task, budget: Budget = UNLIMITED, **executor: object
) -> Result:
    agent = make_agent(
        AgentSetup(
            id="reviewer-1",
            type="reviewer",
            capabilities=frozenset({"review"}),
            executor={"kind": "claude", "executable": str(claude_bin), **executor},
            system_prompt="You review configuration files.",
            tools=None,
            model=None,
            max_turns=None,
            workdir=project,
            project=project,
            where="test reviewer",
        )
    )
    assert agent.preflight() == []
    ctx = AgentContext(
        run_id="run-e2e",
        agent_id=agent.id,
        project=project,
        workdir=project,
        meter=BudgetMeter(per_agent=budget),
        bus=EventBus(),
    )
    return asyncio.run(agent.run(task, ctx))


def test_one_agent_answers_through_claude_code(
    claude_env: Path, standin: StandIn, scratch_project: Path
) -> None:
    standin.script([Text(ANSWER)])
    task = Task(id="t1", kind="work", instruction="Review config.yaml for missing timeouts.")
    result = run_agent(claude_env, scratch_project, task, Budget(max_usd=5.0))
    assert result.output == ANSWER
    assert result.meta["subtype"] == "success"
    assert isinstance(result.meta["session_id"], str) and len(result.meta["session_id"]) == 36
    assert result.meta["num_turns"] == 1
    one_call = standin.input_tokens, standin.output_tokens
    assert result.usage.turns == 1
    assert (result.usage.input_tokens, result.usage.output_tokens) == one_call
    assert result.usage.usd == pytest.approx(result.meta["total_cost_usd"])
    assert result.usage.usd > 0
    [request] = standin.main_turns()
    # The task went in as the prompt and the agent's system prompt as the system prompt.
    assert any("Review config.yaml for missing timeouts." in t for t in texts(request))
    assert any("You review configuration files." in t for t in texts(request))


def test_turn_limit_reached_inside_claude_code_is_a_final_error(
    claude_env: Path, standin: StandIn, scratch_project: Path
) -> None:
    # The model keeps calling tools; with one turn allowed Claude Code stops and says why.
    standin.script([ToolUse("Skill", {"skill": "pdf-forms"})])
    task = Task(id="t2", kind="work", instruction="Fill the form.")
    with pytest.raises(ExecutorError) as failure:
        run_agent(claude_env, scratch_project, task, max_turns=1)
    assert "error_max_turns" in str(failure.value)
    assert failure.value.retryable is False
    assert len(standin.main_turns()) == 1
    assert standin.unanswered == 0


def test_usage_is_summed_over_every_model_call(
    claude_env: Path, standin: StandIn, scratch_project: Path
) -> None:
    skill_md = scratch_project / ".claude" / "skills" / "pdf-forms" / "SKILL.md"
    standin.script([ToolUse("Read", {"file_path": str(skill_md)})], [Text(ANSWER)])
    task = Task(id="t3", kind="work", instruction="Read the pdf-forms skill.")
    result = run_agent(claude_env, scratch_project, task)
    assert result.output == ANSWER
    _, second = standin.main_turns()
    # Claude Code really ran the tool: the file's text came back to the model.
    [tool_result] = tool_results(second)
    assert "MARKER-PDF-FORMS" in str(tool_result["content"])
    assert result.meta["num_turns"] == 2
    assert result.usage == Usage(
        turns=2,
        input_tokens=2 * standin.input_tokens,
        output_tokens=2 * standin.output_tokens,
        usd=result.meta["total_cost_usd"],
    )
