"""The `openai` executor: OpenAI-compatible chat completions with tool calls, over httpx.

Works with api.openai.com and local servers that speak the same format (llama.cpp
`llama-server --jinja`, vLLM with tool parsing enabled, Ollama's `/v1`). Without a key in
`api_key_env` no Authorization header is sent, which local servers accept.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from agentflowd.swarm.agent import AgentContext
from agentflowd.swarm.errors import ExecutorError
from agentflowd.swarm.executors import tools as toolkit
from agentflowd.swarm.executors.answer import result_from_text
from agentflowd.swarm.executors.llm import LLMAgent, LLMSettings, token_counts
from agentflowd.swarm.executors.prompt import render
from agentflowd.swarm.model import Result, Task, Usage


class OpenAIAgent(LLMAgent):
    kind = "openai"

    KEY_ENV = "OPENAI_API_KEY"
    BASE_URL = "https://api.openai.com/v1"
    BASE_URL_ENV = "OPENAI_BASE_URL"

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        s = self.settings
        headers = {"content-type": "application/json"}
        key = s.key()
        if key is not None:
            headers["authorization"] = f"Bearer {key}"
        messages: list[dict[str, Any]] = []
        if s.system_prompt:
            messages.append({"role": "system", "content": s.system_prompt})
        messages.append({"role": "user", "content": render(task, self.id)})
        tool_defs = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": dict(t.schema),
                },
            }
            for t in s.tools
        ]
        total = Usage()
        async with httpx.AsyncClient() as client:
            for _ in range(s.max_turns):
                body: dict[str, Any] = {
                    "model": s.model,
                    "messages": messages,
                    "max_tokens": s.max_tokens,
                }
                if tool_defs:
                    body["tools"] = tool_defs
                if s.temperature is not None:
                    body["temperature"] = s.temperature
                if s.stream:
                    body["stream"] = True
                    body["stream_options"] = {"include_usage": True}
                reply, turn = await self.turn(
                    client,
                    ctx,
                    f"{s.base_url}/chat/completions",
                    headers,
                    body,
                    read_stream=read_stream,
                    usage_of=_usage,
                )
                total = total + turn
                choices = reply.get("choices")
                if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
                    raise ExecutorError("the chat completion has no choices")
                message = choices[0].get("message") or {}
                calls = message.get("tool_calls") or []
                if calls:
                    messages.append(
                        {
                            "role": "assistant",
                            "content": message.get("content"),
                            "tool_calls": calls,
                        }
                    )
                    for call in calls:
                        fn = call.get("function") or {}
                        try:
                            args = json.loads(fn.get("arguments") or "{}")
                        except ValueError:
                            text = "tool arguments were not valid JSON"
                        else:
                            # Chat Completions has no error flag on a tool message; the text says it.
                            text, _ = toolkit.call(s.tools, str(fn.get("name")), args, ctx)
                        messages.append(
                            {"role": "tool", "tool_call_id": call.get("id"), "content": text}
                        )
                    continue
                content = message.get("content")
                meta = {
                    "model": reply.get("model"),
                    "finish_reason": choices[0].get("finish_reason"),
                    "id": reply.get("id"),
                }
                return result_from_text(
                    content if isinstance(content, str) else "", usage=total, meta=meta
                )
        raise self.out_of_turns()


def _usage(reply: Mapping[str, Any], s: LLMSettings) -> Usage:
    inp, out = token_counts(reply, "prompt_tokens", "completion_tokens")
    return Usage(1, inp, out, s.cost(inp, out))


async def read_stream(events_: AsyncIterator[tuple[str, str]]) -> dict[str, Any]:
    """Merge `chat.completion.chunk` deltas (tool calls by index) into one completion."""
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    reply: dict[str, Any] = {}
    finish = None
    async for _, data in events_:
        if data.strip() == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            continue
        if "error" in chunk:
            err = (
                chunk["error"]
                if isinstance(chunk["error"], dict)
                else {"message": str(chunk["error"])}
            )
            raise ExecutorError(f"stream error: {err.get('message', '')}")
        reply.setdefault("id", chunk.get("id"))
        reply.setdefault("model", chunk.get("model"))
        if isinstance(chunk.get("usage"), dict):
            reply["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str):
                content.append(delta["content"])
            for part in delta.get("tool_calls") or []:
                slot = calls.setdefault(
                    part.get("index", 0),
                    {"type": "function", "function": {"name": "", "arguments": ""}},
                )
                if part.get("id"):
                    slot["id"] = part["id"]
                fn = part.get("function") or {}
                if fn.get("name"):
                    slot["function"]["name"] += fn["name"]
                if fn.get("arguments"):
                    slot["function"]["arguments"] += fn["arguments"]
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) or None}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    reply["choices"] = [{"index": 0, "message": message, "finish_reason": finish}]
    return reply
