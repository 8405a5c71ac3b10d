"""The `anthropic` executor through its real httpx client against the scripted Messages API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentflowd.swarm.budget import Budget, BudgetMeter
from agentflowd.swarm.errors import BudgetExceeded, ExecutorError, SwarmConfigError
from agentflowd.swarm.events import EventBus
from agentflowd.swarm.model import Message, Task
from tests.swarm.llm_server import (
    ANTHROPIC,
    LLMServer,
    Reply,
    anthropic_reply,
    anthropic_stream,
    error,
    message,
    text,
    tool_use,
)
from tests.swarm.support import executor_agent, run_agent

TASK = Task("t1", "work", "Summarise notes.txt", inputs={"audience": "devs"})


def agent(llm: LLMServer, project: Path, **executor: Any):
    config = {
        "kind": "anthropic",
        "model": "claude-test",
        "base_url": llm.base_url,
        "retry_delay": "10ms",
        **executor,
    }
    return executor_agent(
        project, config, id="analyzer-1", type="analyzer", system_prompt="You analyse."
    )


def go(
    a,
    project: Path,
    meter: BudgetMeter | None = None,
    sent: list | None = None,
    task: Task = TASK,
    bus: EventBus | None = None,
):
    def send(sender: str, to: str, content: Any):
        sent.append((sender, to, content)) if sent is not None else None
        return (Message(1, sender, to, content, 1, (sender, to)),)

    return run_agent(a, task, project, meter=meter, bus=bus, send=send)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-123")


def test_one_turn_request_shape_and_answer(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(
        ANTHROPIC, anthropic_reply(message(text("All fine."), input_tokens=40, output_tokens=7))
    )
    result = go(
        agent(llm, tmp_path, max_tokens=512, allowed_tools=["Read", "send_message"]), tmp_path
    )
    assert result.output == "All fine."
    assert (result.usage.turns, result.usage.input_tokens, result.usage.output_tokens) == (1, 40, 7)
    [req] = llm.to(ANTHROPIC)
    assert req.headers["x-api-key"] == "sk-test-123"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.body["model"] == "claude-test" and req.body["max_tokens"] == 512
    assert req.body["system"] == "You analyse."
    assert [t["name"] for t in req.body["tools"]] == ["read_file", "send_message"]
    assert req.body["tools"][0]["input_schema"]["required"] == ["path"]
    [user] = req.body["messages"]
    assert (
        user["role"] == "user"
        and "Summarise notes.txt" in user["content"]
        and "- audience: devs" in user["content"]
    )
    assert "stream" not in req.body


def test_tool_use_loop_runs_tools_and_sends_results_back(llm: LLMServer, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("the cache has no TTL\n")
    llm.queue(
        ANTHROPIC,
        anthropic_reply(
            message(
                text("Let me look."),
                tool_use("toolu_1", "read_file", {"path": "notes.txt"}),
                tool_use("toolu_2", "read_file", {"path": "../etc/passwd"}),
            )
        ),
        anthropic_reply(
            message(tool_use("toolu_3", "send_message", {"to": "coder-1", "content": "add a TTL"}))
        ),
        anthropic_reply(
            message(
                text(
                    '{"output": "cache lacks TTL", "findings": [{"file": "notes.txt", "line": 1, "message": "no TTL"}]}'
                )
            )
        ),
    )
    sent: list = []
    result = go(agent(llm, tmp_path), tmp_path, sent=sent)
    assert result.output == "cache lacks TTL"
    assert result.findings[0]["message"] == "no TTL"
    assert result.usage.turns == 3
    _, second, third = llm.to(ANTHROPIC)
    assert second.body["messages"][1]["role"] == "assistant"
    assert second.body["messages"][1]["content"][1]["id"] == "toolu_1"
    results = second.body["messages"][2]["content"]
    assert results[0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": "the cache has no TTL\n",
    }
    assert results[1]["tool_use_id"] == "toolu_2" and results[1]["is_error"] is True
    assert "outside the project" in results[1]["content"]
    assert sent == [("analyzer-1", "coder-1", "add a TTL")]
    assert third.body["messages"][-1]["content"][0]["content"] == "delivered to coder-1"


def test_streaming_builds_the_same_message_from_sse(llm: LLMServer, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    llm.queue(
        ANTHROPIC,
        anthropic_stream(
            message(
                text("Checking"),
                tool_use("toolu_9", "grep", {"pattern": "x =", "glob": "*.py"}),
                input_tokens=30,
                output_tokens=9,
            )
        ),
        anthropic_stream(message(text("Found it in a.py"), input_tokens=50, output_tokens=4)),
    )
    result = go(agent(llm, tmp_path, stream=True), tmp_path)
    assert result.output == "Found it in a.py"
    first, second = llm.to(ANTHROPIC)
    assert first.body["stream"] is True
    assert second.body["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_9",
        "name": "grep",
        "input": {"pattern": "x =", "glob": "*.py"},
    }
    assert second.body["messages"][2]["content"][0]["content"] == "a.py:1: x = 1"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (80, 13)


def test_429_waits_for_retry_after_then_529_and_stream_errors_are_retried(
    llm: LLMServer, tmp_path: Path
) -> None:
    llm.queue(
        ANTHROPIC,
        error(429, "rate_limit_error", "slow down", {"retry-after": "0.3"}),
        error(529, "overloaded_error", "Overloaded"),
        anthropic_stream(message(text("partial")), error_after="overloaded_error"),
        anthropic_stream(message(text("made it"))),
    )
    bus = EventBus()
    seen: list = []
    bus.add_sink(seen.append)
    result = go(agent(llm, tmp_path, stream=True, max_retries=3), tmp_path, bus=bus)
    assert result.output == "made it"
    reqs = llm.to(ANTHROPIC)
    assert len(reqs) == 4
    assert reqs[1].at - reqs[0].at >= 0.3  # retry-after honoured
    retries = [e for e in seen if e.kind == "api.retry"]
    assert retries[0].data["wait_s"] == 0.3
    assert [e.data["reason"] for e in retries] == [
        "HTTP 429 rate_limit_error: slow down",
        "HTTP 529 overloaded_error: Overloaded",
        "stream error overloaded_error: Overloaded",
    ]


def test_client_errors_are_not_retried(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(ANTHROPIC, error(400, "invalid_request_error", "max_tokens: too large"))
    with pytest.raises(ExecutorError) as failed:
        go(agent(llm, tmp_path), tmp_path)
    assert str(failed.value) == "HTTP 400 invalid_request_error: max_tokens: too large"
    assert not failed.value.retryable
    assert len(llm.to(ANTHROPIC)) == 1


def test_server_errors_give_up_after_max_retries(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(ANTHROPIC, *[error(500, "api_error", "oops")] * 3)
    with pytest.raises(
        ExecutorError, match=r"HTTP 500 api_error: oops \(gave up after 3 tries\)"
    ) as failed:
        go(agent(llm, tmp_path, max_retries=2), tmp_path)
    assert failed.value.retryable  # the scheduler may try the whole task again later
    assert len(llm.to(ANTHROPIC)) == 3


def test_retry_after_longer_than_allowed_is_not_waited_for(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(ANTHROPIC, error(429, "rate_limit_error", "later", {"retry-after": "3600"}))
    with pytest.raises(ExecutorError, match="asks to wait 3600s"):
        go(agent(llm, tmp_path), tmp_path)


def test_budget_is_enforced_inside_the_tool_loop(llm: LLMServer, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    loop_forever = [
        anthropic_reply(
            message(
                tool_use(f"toolu_{i}", "read_file", {"path": "f"}),
                input_tokens=100,
                output_tokens=20,
            )
        )
        for i in range(10)
    ]
    llm.queue(ANTHROPIC, *loop_forever)
    meter = BudgetMeter(per_agent=Budget(max_tokens=300))
    with pytest.raises(BudgetExceeded, match="agent analyzer-1 used 360 tokens of 300 tokens"):
        go(agent(llm, tmp_path), tmp_path, meter)
    assert len(llm.to(ANTHROPIC)) == 3  # the third turn crossed the limit; no fourth request


def test_turn_limit_is_a_final_failure(llm: LLMServer, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    llm.queue(
        ANTHROPIC,
        *[
            anthropic_reply(message(tool_use(f"t{i}", "read_file", {"path": "f"})))
            for i in range(3)
        ],
    )
    with pytest.raises(ExecutorError, match=r"still calling tools after max_turns \(2\)") as failed:
        go(agent(llm, tmp_path, max_turns=2), tmp_path)
    assert not failed.value.retryable


def test_cost_comes_from_configured_prices(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(
        ANTHROPIC,
        anthropic_reply(message(text("ok"), input_tokens=1_000_000, output_tokens=100_000)),
    )
    meter = BudgetMeter()
    result = go(agent(llm, tmp_path, input_usd_per_mtok=3, output_usd_per_mtok=15), tmp_path, meter)
    assert result.usage.usd == pytest.approx(4.5)
    assert meter.used("analyzer-1")["usd"] == pytest.approx(4.5)


def test_key_and_tools_are_checked_before_running(
    llm: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    assert agent(llm, tmp_path).preflight() == [
        "analyzer-1: the anthropic executor needs an API key in $ANTHROPIC_API_KEY"
    ]
    with pytest.raises(SwarmConfigError, match="no tool 'Bash' in this executor"):
        agent(llm, tmp_path, allowed_tools=["Read", "Bash"])
    with pytest.raises(SwarmConfigError, match="needs a `model`"):
        executor_agent(tmp_path, {"kind": "anthropic"}, id="a", type="a")


def test_server_unscripted_reply_is_visible(llm: LLMServer, tmp_path: Path) -> None:
    # A guard on the test server itself: an unscripted request fails loudly, never silently.
    llm.queue(
        ANTHROPIC,
        Reply(status=500, body={"type": "error", "error": {"type": "api_error", "message": "x"}}),
    )
    with pytest.raises(ExecutorError, match="no scripted reply"):
        go(agent(llm, tmp_path, max_retries=1), tmp_path)
