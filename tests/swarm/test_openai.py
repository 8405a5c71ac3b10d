"""The `openai` executor through its real httpx client against scripted chat completions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agentflowd.swarm.budget import BudgetMeter
from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.model import Task
from tests.swarm.llm_server import OPENAI, LLMServer, completion, error, openai_reply, openai_stream
from tests.swarm.support import executor_agent, run_agent

TASK = Task("t1", "work", "Find TODOs")


def agent(llm: LLMServer, project: Path, **executor: Any):
    config = {
        "kind": "openai",
        "model": "llama3.1",
        "base_url": f"{llm.base_url}/v1",
        "retry_delay": "10ms",
        **executor,
    }
    return executor_agent(
        project, config, id="researcher-1", type="researcher", system_prompt="You research."
    )


def go(a, project: Path, meter: BudgetMeter | None = None):
    return run_agent(a, TASK, project, meter=meter)


def test_tool_calls_round_trip(
    llm: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    (tmp_path / "main.py").write_text("# TODO: retry\nprint(1)\n")
    llm.queue(
        OPENAI,
        openai_reply(
            completion(
                None,
                [
                    ("call_1", "grep", {"pattern": "TODO"}),
                    ("call_2", "list_files", {"pattern": "*.py"}),
                ],
            )
        ),
        openai_reply(completion("One TODO in main.py.", prompt_tokens=40, completion_tokens=8)),
    )
    meter = BudgetMeter()
    result = go(agent(llm, tmp_path), tmp_path, meter)
    assert result.output == "One TODO in main.py."
    first, second = llm.to(OPENAI)
    assert "authorization" not in first.headers  # local servers need no key
    assert first.body["messages"][0] == {"role": "system", "content": "You research."}
    assert (
        first.body["messages"][1]["role"] == "user"
        and "Find TODOs" in first.body["messages"][1]["content"]
    )
    assert [t["function"]["name"] for t in first.body["tools"]] == [
        "read_file",
        "list_files",
        "grep",
        "send_message",
    ]
    msgs = second.body["messages"]
    assert msgs[2]["role"] == "assistant" and [c["id"] for c in msgs[2]["tool_calls"]] == [
        "call_1",
        "call_2",
    ]
    assert msgs[3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": "main.py:1: # TODO: retry",
    }
    assert msgs[4] == {"role": "tool", "tool_call_id": "call_2", "content": "main.py"}
    assert meter.used("researcher-1") == {"turns": 2, "tokens": 12 + 6 + 48, "usd": 0.0}


def test_streaming_merges_tool_call_fragments(
    llm: LLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local")
    (tmp_path / "n.txt").write_text("hello")
    llm.queue(
        OPENAI,
        openai_stream(
            completion(
                None,
                [("call_a", "read_file", {"path": "n.txt"})],
                prompt_tokens=20,
                completion_tokens=3,
            )
        ),
        openai_stream(completion("It says hello.", prompt_tokens=25, completion_tokens=4)),
    )
    result = go(agent(llm, tmp_path, stream=True), tmp_path)
    assert result.output == "It says hello."
    first, second = llm.to(OPENAI)
    assert first.headers["authorization"] == "Bearer sk-local"
    assert first.body["stream"] is True and first.body["stream_options"] == {"include_usage": True}
    assert second.body["messages"][2]["tool_calls"][0]["function"] == {
        "name": "read_file",
        "arguments": '{"path": "n.txt"}',
    }
    assert second.body["messages"][3]["content"] == "hello"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (45, 7)


def test_rate_limits_and_server_errors_are_retried(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(
        OPENAI,
        error(429, "rate_limit_exceeded", "slow", {"retry-after-ms": "250"}),
        error(503, "unavailable", "loading model"),
        openai_reply(completion("ready")),
    )
    assert go(agent(llm, tmp_path), tmp_path).output == "ready"
    reqs = llm.to(OPENAI)
    assert len(reqs) == 3 and reqs[1].at - reqs[0].at >= 0.25


def test_unknown_model_is_a_clear_final_error(llm: LLMServer, tmp_path: Path) -> None:
    llm.queue(OPENAI, error(404, "model_not_found", "model 'llama3.1' not found"))
    with pytest.raises(
        ExecutorError, match=r"HTTP 404 model_not_found: model 'llama3\.1' not found"
    ) as failed:
        go(agent(llm, tmp_path), tmp_path)
    assert not failed.value.retryable
