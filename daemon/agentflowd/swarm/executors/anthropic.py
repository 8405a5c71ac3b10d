"""The `anthropic` executor: the Messages API with a tool-use loop, over httpx.

Each turn: check the budget, POST /v1/messages (streaming when `stream: true`), charge the
turn's tokens and cost, run any tool_use blocks and send their tool_result, until the model
stops asking for tools or `max_turns` runs out.
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
from agentflowd.swarm.executors.httpapi import RetryableStreamError
from agentflowd.swarm.executors.llm import LLMAgent, LLMSettings, token_counts
from agentflowd.swarm.executors.prompt import render
from agentflowd.swarm.model import Result, Task, Usage

API_VERSION = "2023-06-01"


class AnthropicAgent(LLMAgent):
    kind = "anthropic"

    KEY_ENV = "ANTHROPIC_API_KEY"
    BASE_URL = "https://api.anthropic.com"
    BASE_URL_ENV = "ANTHROPIC_BASE_URL"

    def preflight(self) -> list[str]:
        if self.settings.key() is None:
            return [
                f"{self.id}: the anthropic executor needs an API key in ${self.settings.key_env}"
            ]
        return []

    async def run(self, task: Task, ctx: AgentContext) -> Result:
        s = self.settings
        key = s.key()
        if key is None:
            raise ExecutorError(f"${s.key_env} is not set", retryable=False)
        headers = {
            "x-api-key": key,
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
        }
        messages: list[dict[str, Any]] = [{"role": "user", "content": render(task, self.id)}]
        tool_defs = [
            {"name": t.name, "description": t.description, "input_schema": dict(t.schema)}
            for t in s.tools
        ]
        total = Usage()
        async with httpx.AsyncClient() as client:
            for _ in range(s.max_turns):
                body: dict[str, Any] = {
                    "model": s.model,
                    "max_tokens": s.max_tokens,
                    "messages": messages,
                }
                if s.system_prompt:
                    body["system"] = s.system_prompt
                if tool_defs:
                    body["tools"] = tool_defs
                if s.temperature is not None:
                    body["temperature"] = s.temperature
                if s.stream:
                    body["stream"] = True
                reply, turn = await self.turn(
                    client,
                    ctx,
                    f"{s.base_url}/v1/messages",
                    headers,
                    body,
                    read_stream=read_stream,
                    usage_of=_usage,
                )
                total = total + turn
                content = reply.get("content")
                if not isinstance(content, list):
                    raise ExecutorError("the Messages API reply has no content list")
                messages.append({"role": "assistant", "content": content})
                calls = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]
                if reply.get("stop_reason") == "tool_use" and calls:
                    results = []
                    for block in calls:
                        text, is_error = toolkit.call(
                            s.tools, str(block.get("name")), block.get("input"), ctx
                        )
                        item: dict[str, Any] = {
                            "type": "tool_result",
                            "tool_use_id": block.get("id"),
                            "content": text,
                        }
                        if is_error:
                            item["is_error"] = True
                        results.append(item)
                    messages.append({"role": "user", "content": results})
                    continue
                text = "".join(
                    b.get("text", "")
                    for b in content
                    if isinstance(b, dict) and b.get("type") == "text"
                )
                meta = {
                    "model": reply.get("model"),
                    "stop_reason": reply.get("stop_reason"),
                    "id": reply.get("id"),
                }
                return result_from_text(text, usage=total, meta=meta)
        raise self.out_of_turns()


def _usage(reply: Mapping[str, Any], s: LLMSettings) -> Usage:
    fresh, cache_write, cache_read, out = token_counts(
        reply,
        "input_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
    )
    inp = fresh + cache_write + cache_read
    return Usage(1, inp, out, s.cost(inp, out))


async def read_stream(events: AsyncIterator[tuple[str, str]]) -> dict[str, Any]:
    """Build the Message a non-streaming call would have returned from the SSE events."""
    message: dict[str, Any] | None = None
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, list[str]] = {}
    async for name, data in events:
        try:
            payload = json.loads(data)
        except ValueError:
            continue
        kind = payload.get("type", name)
        if kind == "message_start":
            message = dict(payload.get("message") or {})
            message["content"] = []
        elif kind == "content_block_start":
            index = payload["index"]
            block = dict(payload.get("content_block") or {})
            if block.get("type") == "tool_use":
                partial[index] = []
            blocks[index] = block
        elif kind == "content_block_delta":
            index = payload["index"]
            delta = payload.get("delta") or {}
            block = blocks.setdefault(index, {"type": "text", "text": ""})
            dtype = delta.get("type")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta.get("text", "")
            elif dtype == "input_json_delta":
                partial.setdefault(index, []).append(delta.get("partial_json", ""))
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
            elif dtype == "signature_delta":
                block["signature"] = delta.get("signature", "")
        elif kind == "content_block_stop":
            index = payload["index"]
            if index in partial:
                raw = "".join(partial.pop(index))
                try:
                    blocks[index]["input"] = json.loads(raw) if raw else {}
                except ValueError as exc:
                    raise ExecutorError(f"tool_use input is not JSON: {raw[:200]}") from exc
        elif kind == "message_delta":
            if message is None:
                message = {"content": []}
            message.update(
                {
                    k: v
                    for k, v in (payload.get("delta") or {}).items()
                    if v is not None or k == "stop_sequence"
                }
            )
            usage = dict(message.get("usage") or {})
            usage.update({k: v for k, v in (payload.get("usage") or {}).items() if v is not None})
            message["usage"] = usage
        elif kind == "error":
            err = payload.get("error") or {}
            raise RetryableStreamError(
                f"stream error {err.get('type', '')}: {err.get('message', '')}"
            )
        elif kind == "message_stop":
            break
    if message is None:
        raise ExecutorError("the stream ended without a message_start event")
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message
