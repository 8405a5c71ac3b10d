"""The stand-in Anthropic Messages API that the real `claude` CLI talks to in these tests.

The HTTP side is the swarm tests' scripted server (`tests/swarm/llm_server.py`: records every
request, answers each with the next queued reply, streams SSE); this module adds what driving
Claude Code needs: turns written as content blocks, unique message and tool ids, and readers
for what Claude Code put into a request.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.swarm.llm_server import ANTHROPIC, LLMServer, Request, anthropic_stream, message
from tests.swarm.llm_server import text as text_block
from tests.swarm.llm_server import tool_use as tool_use_block

INPUT_TOKENS = 120
OUTPUT_TOKENS = 7


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class ToolUse:
    name: str
    input: dict[str, Any]


Block = Text | ToolUse


class StandIn:
    """One server per test; use as a context manager. `base_url` goes into ANTHROPIC_BASE_URL.

    Every model call must be scripted with `script(...)`: an unscripted one gets a 500, and the
    tests run Claude Code without retries, so under-scripting fails at once.
    """

    input_tokens = INPUT_TOKENS
    output_tokens = OUTPUT_TOKENS

    def __init__(self) -> None:
        self._server = LLMServer()
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    def __enter__(self) -> StandIn:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop()

    def script(self, *turns: list[Block]) -> None:
        """Queue one streamed assistant message per turn, in order."""
        for turn in turns:
            blocks = [
                text_block(b.text)
                if isinstance(b, Text)
                else tool_use_block(f"toolu_standin{next(self._ids):04d}", b.name, b.input)
                for b in turn
            ]
            reply = message(
                *blocks, input_tokens=self.input_tokens, output_tokens=self.output_tokens
            )
            reply["id"] = f"msg_standin{next(self._ids):04d}"
            self._server.queue(ANTHROPIC, anthropic_stream(reply))

    @property
    def unanswered(self) -> int:
        """Scripted turns nobody asked for."""
        return self._server.pending(ANTHROPIC)

    def main_turns(self) -> list[Request]:
        """Requests of the conversation itself (they carry tools; side queries would not)."""
        return [r for r in self._server.to(ANTHROPIC) if r.body.get("tools")]


def texts(request: Request) -> list[str]:
    """Every text a request carries: the system prompt, and the text and tool results of every
    message (Claude Code also puts attachments in `messages` with role "system")."""
    out: list[str] = []
    system = request.body.get("system")
    if isinstance(system, str):
        out.append(system)
    elif isinstance(system, list):
        out.extend(b.get("text", "") for b in system if isinstance(b, dict))
    for msg in request.body.get("messages", []):
        out.extend(_texts_of(msg.get("content")))
    return out


def tool_results(request: Request) -> list[dict[str, Any]]:
    return [
        block for msg in request.body.get("messages", []) for block in _blocks(msg, "tool_result")
    ]


def tool_uses(request: Request, name: str | None = None) -> list[dict[str, Any]]:
    return [
        block
        for msg in request.body.get("messages", [])
        if msg.get("role") == "assistant"
        for block in _blocks(msg, "tool_use")
        if name is None or block.get("name") == name
    ]


def _blocks(msg: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    content = msg.get("content")
    if isinstance(content, list):
        yield from (b for b in content if isinstance(b, dict) and b.get("type") == kind)


def _texts_of(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        for block in content:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                yield block.get("text", "")
            elif block.get("type") == "tool_result":
                yield from _texts_of(block.get("content"))
